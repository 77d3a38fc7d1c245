"""The active model, cached loads, and friendly stops when something is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from mnist_core.data import mnist as mnist_data

from mnist_core import paths

from mnist_core.analysis import predictions
from mnist_core.models import loading, store
from studio_ui import gate

ACTIVE = "active_model"
WIDGET = "_active_model_widget"
DEFAULT = "default"
DRAW_KEY = "draw_input"  # the Draw page leaves its latest preprocessed 28x28 digit here for Inspect
DRAW_DIGITS = "draw_digits"  # ... and every digit of a drawn number, left to right


def model_names() -> list[str]:
    try:
        return store.list_names()
    except OSError as exc:
        st.error(f"Cannot read the model folder {paths.models_dir()}: {exc}")
        return []


def _adopt_query_param(names: list[str]) -> None:
    """A link like /inspect?model=abc selects that model once, then steps aside."""
    wanted = st.query_params.get("model")
    if wanted is None:
        return
    del st.query_params["model"]
    if wanted in names:
        st.session_state[ACTIVE] = wanted
    else:
        st.toast(f"No saved model named '{wanted}'; keeping the current one.")


def choose_active(names: list[str]) -> str | None:
    """Keep the chosen model if it still exists, else `default`, else the first one."""
    current = st.session_state.get(ACTIVE)
    if current in names:
        return current
    if DEFAULT in names:
        return DEFAULT
    return names[0] if names else None


def _on_pick() -> None:
    st.session_state[ACTIVE] = st.session_state[WIDGET]


def sidebar_model_picker() -> str | None:
    """The sidebar's active-model selector; its choice survives page changes."""
    names = model_names()
    _adopt_query_param(names)
    active = choose_active(names)
    st.session_state[ACTIVE] = active
    with st.sidebar:
        if not names:
            st.info("No saved models yet. Train one on the **Train** page.")
            return None
        # The widget's own key is reset to the shared choice before it is drawn,
        # so a choice made on another page (or by a link) shows here too.
        st.session_state[WIDGET] = active
        st.selectbox("Active model", names, key=WIDGET, on_change=_on_pick,
                     help="The model the Inspect, Draw and Batch pages use.")
        card = _card_or_none(active)
        if card:
            acc = card.get("test_accuracy")
            st.caption(f"{card.get('kind', '?')} · test accuracy {acc:.2%}" if acc is not None
                       else card.get("kind", ""))
    return active


def _card_or_none(name: str) -> dict | None:
    try:
        return store.read_card(name)
    except store.StoreError:
        return None


def active_name() -> str | None:
    return st.session_state.get(ACTIVE) or choose_active(model_names())


@st.cache_resource(show_spinner="Loading the model...", max_entries=6)
def _load(root: str, name: str, modified: float) -> loading.LoadedModel:
    # `modified` is only part of the cache key: a retrained model loads afresh.
    return loading.load(name, Path(root))


def load_model(name: str) -> loading.LoadedModel:
    """A cached, read-only loaded model; raises store.StoreError with a clear message."""
    root = str(paths.models_dir())
    return _load(root, name, store.modified(name))


def require_model(purpose: str) -> loading.LoadedModel:
    """The active model, or an explanation and a stop when there is none or it is broken."""
    name = active_name()
    if name is None:
        st.info(f"There is no saved model to {purpose} yet. Train one first.")
        if gate.can_open("pages/train.py"):
            st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    try:
        return load_model(name)
    except store.StoreError as exc:
        st.error(f"Model '{name}' cannot be used: {exc}. Pick another model in the sidebar "
                 "or delete this one on the Models page.")
        st.stop()


@st.cache_resource(show_spinner="Loading MNIST...")
def mnist() -> mnist_data.Mnist:
    return mnist_data.load_mnist()


@st.cache_resource(show_spinner="Preparing MNIST splits...")
def splits() -> mnist_data.Splits:
    return mnist_data.load_splits()


def require_mnist() -> mnist_data.Mnist:
    try:
        return mnist()
    except mnist_data.MnistLoadError as exc:
        st.error(f"MNIST is not available, so this page cannot show it.\n\n{exc}")
        st.stop()


def require_splits() -> mnist_data.Splits:
    try:
        return splits()
    except (mnist_data.MnistLoadError, ValueError) as exc:
        st.error(f"MNIST is not available, so this page cannot show it.\n\n{exc}")
        st.stop()


@st.cache_data(show_spinner="Predicting the 10,000 test images (once per model)...", max_entries=6)
def test_probs(root: str, name: str, modified: float) -> np.ndarray:
    """The model's probabilities on the whole test set: from the file kept beside its card, else computed once."""
    data = splits()
    return predictions.test_probs(name, data.x_test, data.sha256, Path(root),
                                  load=lambda: _load(root, name, modified))


def active_test_probs(model: loading.LoadedModel) -> np.ndarray:
    return test_probs(str(paths.models_dir()), model.name, store.modified(model.name))


def test_probs_of(name: str) -> np.ndarray:
    """A saved model's test-set probabilities without loading it when they are kept beside its card."""
    return test_probs(str(paths.models_dir()), name, store.modified(name))
