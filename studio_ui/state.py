"""The active model, cached loads, and friendly stops when something is missing."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_core import paths
from mnist_core import tasks as tasks_mod
from mnist_core.analysis import predictions, testset
from mnist_core.data import mnist as mnist_data
from mnist_core.errors import UserError
from mnist_core.models import loading, store
from studio_ui import gate, heap

ACTIVE = "active_model"
TASK = "active_task"  # digits or shapes: the task the active model is of
BY_TASK = "active_by_task"  # {task: the model last chosen for it}
WIDGET = "_active_model_widget"
DEFAULT = "default"
DRAW_KEY = "draw_input"  # the Draw page leaves its latest preprocessed 28x28 digit here for Inspect
DRAW_DIGITS = "draw_digits"  # ... and every digit of a drawn number, left to right
DRAW_TASK = "draw_input_task"  # ... and the task it was read as (Inspect offers it to models of that task)


@contextmanager
def user_errors(before: str = "", stop: bool = False):
    """The one way a page shows what a user got wrong: one st.error with the message (after `before`), then
    the page goes on, or stops with `stop`. Anything that is not a UserError is a bug and keeps its traceback."""
    try:
        yield
    except UserError as exc:
        st.error(f"{before}{exc}", icon=":material/error:")
        if stop:
            st.stop()


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


def model_tasks() -> dict:
    """{name: Task} of the store's readable models (an ensemble's task is its members')."""
    try:
        return tasks_mod.tasks_by_name(store.list_models())
    except OSError:
        return {}


def current_task() -> tasks_mod.Task:
    return tasks_mod.get(st.session_state.get(TASK) or "digits")


def task_of(name: str) -> tasks_mod.Task:
    """A saved model's task (digits for one whose card cannot be read)."""
    return model_tasks().get(name, tasks_mod.DIGITS_TASK)


def choose_active(names: list[str], tasks: dict) -> str | None:
    """The chosen model while it exists (it decides the task); else the current task's last choice, its
    shipped model or its first; before any task was chosen, any model when there is none of digits."""
    current = st.session_state.get(ACTIVE)
    if current in names:
        return current
    task = current_task()
    chosen = tasks_mod.choose_model(task, tasks, st.session_state.get(BY_TASK, {}).get(task))
    if chosen is None and TASK not in st.session_state:
        chosen = tasks_mod.choose_model(tasks.get(names[0], task), tasks) if names else None
    return chosen


def _remember(name: str | None, tasks: dict) -> None:
    """`name` is the active model, its task the current task, and that task's choice."""
    st.session_state[ACTIVE] = name
    if name in tasks:
        st.session_state[TASK] = tasks[name]
        st.session_state.setdefault(BY_TASK, {})[tasks[name]] = name


def _on_pick() -> None:
    _remember(st.session_state[WIDGET], model_tasks())


def _on_task(key: str) -> None:
    task = st.session_state.get(key)
    if task is None:  # a click on the chosen task unselects it: keep it
        return
    tasks = model_tasks()
    st.session_state[TASK] = task
    st.session_state[ACTIVE] = tasks_mod.choose_model(task, tasks, st.session_state.get(BY_TASK, {}).get(task))


def task_switch(key: str) -> tasks_mod.Task:
    """A page's Digits / Shapes switch: it picks the task, and with it that task's active model (each task
    keeps its own choice; the sidebar shows the one in use)."""
    if st.session_state.get(key) != current_task():  # only when it changed elsewhere (the sidebar, a link):
        st.session_state[key] = current_task()  # a value set on every run makes the canvas below lose strokes
    st.segmented_control("Task", tasks_mod.TASKS, key=key, format_func=str.title, on_change=_on_task, args=(key,),
                         help="Digits: models trained on MNIST. Shapes: models trained on hand-drawn shapes. "
                              "Each task keeps its own active model.")
    return current_task()


def sidebar_model_picker() -> str | None:
    """The sidebar's active-model selector; its choice survives page changes."""
    names = model_names()
    _adopt_query_param(names)
    tasks = model_tasks()
    active = choose_active(names, tasks)
    _remember(active, tasks)
    with st.sidebar:
        if not names:
            st.info("No saved models yet. Train one on the **Train** page.")
            return None
        if active is None:
            st.info(f"No saved {current_task()} model yet: train one on the **Train** page, or pick another "
                    "model here.")
        # The widget's own key is reset to the shared choice before it is drawn,
        # so a choice made on another page (or by a link) shows here too.
        st.session_state[WIDGET] = active
        st.selectbox("Active model", names, key=WIDGET, on_change=_on_pick, index=None if active is None else 0,
                     help="The model the Inspect, Draw and Batch pages use (one per task: digits, shapes).")
        card = _card_or_none(active) if active else None
        if card:
            acc = card.get("test_accuracy")
            what = " · ".join([card.get("kind", "?")] + (["shapes"] if tasks.get(active) == "shapes" else []))
            st.caption(f"{what} · test accuracy {acc:.2%}" if acc is not None else what)
    return active


def _card_or_none(name: str) -> dict | None:
    try:
        return store.read_card(name)
    except store.StoreError:
        return None


def active_name() -> str | None:
    """The sidebar's choice (None when the current task has no model), or a choice made now."""
    if ACTIVE in st.session_state:
        return st.session_state[ACTIVE]
    names = model_names()
    return choose_active(names, model_tasks())


@st.cache_resource(show_spinner="Loading the model...", max_entries=6)
def _load(root: str, name: str, modified: float) -> loading.LoadedModel:
    # `modified` is only part of the cache key: a retrained model loads afresh.
    model = loading.load(name, Path(root))
    heap.settle()  # TensorFlow is loaded now: keep it out of the collection after every run (studio_ui/heap.py)
    return model


def load_model(name: str) -> loading.LoadedModel:
    """A cached, read-only loaded model; raises store.StoreError with a clear message."""
    root = str(paths.models_dir())
    return _load(root, name, store.modified(name))


def _require_active(purpose: str) -> str:
    """The active model's name, or an explanation and a stop when the current task has none."""
    name = active_name()
    if name is None:
        task = current_task()
        what = "model" if task == "digits" else f"{task} model"
        st.info(f"There is no saved {what} to {purpose} yet. Train one first"
                + ("." if task == "digits" else f" (on the Train page, task {task.title()})."))
        if gate.can_open("pages/train.py"):
            st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    return name


def stop_unusable(name: str, exc: Exception) -> None:
    """Say the model cannot be used and why, what to do instead, and stop the page."""
    st.error(f"Model '{name}' cannot be used: {exc}. Pick another model in the sidebar "
             "or delete this one on the Models page.")
    st.stop()


def require_model(purpose: str) -> loading.LoadedModel:
    """The active model, or an explanation and a stop when there is none or it is broken."""
    name = _require_active(purpose)
    try:
        return load_model(name)
    except store.StoreError as exc:
        stop_unusable(name, exc)


def require_card(purpose: str) -> dict:
    """The active model's card, read without loading the model (no TensorFlow): for what a page
    draws before it needs the model itself."""
    name = _require_active(purpose)
    try:
        return store.read_card(name)
    except store.StoreError as exc:
        stop_unusable(name, exc)


@st.cache_resource(show_spinner="Loading MNIST...")
def mnist() -> mnist_data.Mnist:
    return mnist_data.load_mnist()


def require_mnist() -> mnist_data.Mnist:
    try:
        return mnist()
    except mnist_data.MnistLoadError as exc:
        st.error(f"MNIST is not available, so this page cannot show it.\n\n{exc}")
        st.stop()


@st.cache_resource(show_spinner="Drawing the shapes' test split (once)...", max_entries=2)
def _shapes_test(sizes: str, cache: str) -> testset.HeldOutSet:
    # The split's size and cache folder come from the environment; they are part of the key.
    return testset.shapes_test()


@st.cache_resource(show_spinner=False)
def _digits_test(_raw: mnist_data.Mnist) -> testset.HeldOutSet:  # not hashed: there is one MNIST per server
    return testset.from_raw_mnist(_raw)


def test_set(task: str) -> testset.HeldOutSet:
    """The held-out set a model of `task` is scored on: MNIST's test images or the generated test shapes."""
    if task == "shapes":
        from mnist_core.data import shapes

        return _shapes_test(os.environ.get("MNIST_STUDIO_SHAPES_SIZES", ""), str(shapes.cache_dir()))
    return _digits_test(mnist())  # the raw MNIST Home already loaded: no 60,000 training images converted


def require_test_set(task: str) -> testset.HeldOutSet:
    try:
        return test_set(task)
    except UserError as exc:
        st.error(f"The test set of this model's task ({task}) is not available, so this page cannot show it."
                 f"\n\n{exc}")
        st.stop()


@st.cache_data(show_spinner="Predicting the test set (once per model)...", max_entries=6)
def test_probs(root: str, name: str, modified: float, task: str = "digits") -> np.ndarray:
    """The model's probabilities on its task's whole test set: from the file kept beside its card, else
    computed once."""
    data = test_set(task)
    return predictions.test_probs(name, data.x, data.sha256, Path(root), load=lambda: _load(root, name, modified))


def test_probs_of(name: str, task: str = "digits") -> np.ndarray:
    """A saved model's test-set probabilities without loading it when they are kept beside its card."""
    return test_probs(str(paths.models_dir()), name, store.modified(name), task)
