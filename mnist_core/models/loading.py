"""Saved models ready to predict: LoadedModel, Ensemble and load(name).

load() reads one consistent version of a store entry (store.read) and
builds the model its card's backend names: a Keras model (loaded with
safe_mode=True), a NumPy net, an imported ONNX or LiteRT file run by its own
runtime (runtimes.py), or an Ensemble. An imported model's card holds its
input convention (convention.py), applied here once: a Keras import becomes
one Keras graph reading studio images, an ONNX or LiteRT import converts
them before its runtime sees them, so every caller predicts as usual.
`why_no_graph()` says what a model without a Keras graph cannot offer
(saliency, feature maps, filters, fine-tuning). An ensemble is a store entry
holding only card.json, with kind "ensemble" and the names of its members;
an Ensemble has LoadedModel's interface (name, card, net, backend,
predict_proba, predict, count_params) plus `members`, so every page, the
CLI and the benchmarks use it like any model. Members stay ordinary models
in the store; an ensemble never contains another ensemble.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_core.models import store
from mnist_core import tasks

ENSEMBLE = "ensemble"
RUNTIME_BACKENDS = ("onnx", "litert")  # imported files run by onnxruntime or the LiteRT interpreter
RUNTIME_WORDS = {"onnx": "an ONNX file run by onnxruntime", "litert": "a LiteRT file run by the LiteRT interpreter"}


@dataclass
class LoadedModel:
    """A saved model ready to predict; treat it as read-only."""

    name: str
    card: dict
    net: object  # keras.Model or numpy_nets.NumpyNet
    backend: str
    _fn: object = field(default=None, repr=False)

    def predict_proba(self, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Probabilities (N, 10) for float32 images (N, 28, 28, 1) in [0, 1]."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)
        if self.backend == "numpy":
            return self.net.predict_proba(x)
        if len(x) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        if self.backend in RUNTIME_BACKENDS:
            return self.net.predict_proba(x)
        fn = self._graph()
        return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])

    def _graph(self):
        """net(x, training=False) as one traced graph for any batch size.

        Calling the Keras model eagerly re-runs its Python layer code on every
        call; the traced function does not (the canvas predicts one image at a time).
        """
        if self._fn is None:
            import tensorflow as tf

            net = self.net
            self._fn = tf.function(lambda x: net(x, training=False),
                                   input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
        return self._fn

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    def count_params(self) -> int:
        return int(self.net.count_params())

    def why_no_graph(self) -> str | None:
        """Why saliency, feature maps, filters and fine-tuning are not available; None when they are."""
        if self.backend in RUNTIME_BACKENDS:
            return (f"'{self.name}' is {RUNTIME_WORDS[self.backend]}, which gives its predictions and nothing "
                    "else: no gradients (so no saliency map), no outputs of inner layers (no feature maps), and "
                    "no weights the studio can read as filters or train (no fine-tuning). Everything built on "
                    "predictions works: the test set view, Batch, Draw, the leaderboard, ensembles")
        return None

    @property
    def class_names(self) -> list[str]:
        """What each output means: "0".."9" for digits, the shape names for a shapes model."""
        return card_class_names(self.card)

    @property
    def task(self) -> tasks.Task:
        return tasks.of_card(self.card)


@dataclass
class Ensemble:
    name: str
    card: dict
    members: list  # LoadedModel, in the card's order
    backend: str = ENSEMBLE
    _fn: object = field(default=None, repr=False)

    @property
    def net(self):
        """The first member's network, for code that inspects one network (filters, saliency)."""
        return self.members[0].net

    def predict_proba(self, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Mean of the members' probabilities (N, 10) for float32 images (N, 28, 28, 1)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)
        if len(x) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        if all(m.backend == "keras" for m in self.members):
            fn = self._graph()  # one graph call for all members: one dispatch per image, not one per member
            return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])
        return np.mean([m.predict_proba(x, batch_size) for m in self.members], axis=0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    def count_params(self) -> int:
        return sum(m.count_params() for m in self.members)

    def why_no_graph(self) -> str | None:
        reasons = [m.why_no_graph() for m in self.members if m.why_no_graph()]
        return reasons[0] if reasons else None

    @property
    def class_names(self) -> list[str]:
        return card_class_names(self.card) if "class_names" in self.card else self.members[0].class_names

    @property
    def task(self) -> tasks.Task:
        return tasks.of_card(self.card) if "task" in self.card else self.members[0].task

    def _graph(self):
        if self._fn is None:
            import tensorflow as tf

            nets = [m.net for m in self.members]
            spec = tf.TensorSpec((None, 28, 28, 1), tf.float32)
            self._fn = tf.function(lambda x: tf.add_n([n(x, training=False) for n in nets]) / len(nets),
                                   input_signature=[spec])
        return self._fn


def card_class_names(card: dict) -> list[str]:
    """A card's class names, in output order; from its task when the card does not list them."""
    names = card.get("class_names")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return names
    return list(tasks.of_card(card).classes)


def is_ensemble(card: dict) -> bool:
    return card.get("kind") == ENSEMBLE


def member_names(card: dict) -> list[str]:
    members = card.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise store.CorruptModel(f"ensemble '{card.get('name')}' has no valid member list in its card")
    return members


def load(name: str, root: Path | None = None) -> LoadedModel | Ensemble:
    """Load models/<name>; missing or corrupt models raise a StoreError with a clear message."""
    return store.read(name, lambda folder, card: _open(name, folder, card, root), root)


def _open(name: str, folder: Path, card: dict, root: Path | None) -> LoadedModel | Ensemble:
    if is_ensemble(card):
        return load_ensemble({**card, "name": name}, root)
    try:
        file = store.file_name({**card, "name": name})
    except store.StoreError as exc:
        raise store.CorruptModel(str(exc)) from None
    if file is None or not (folder / file).is_file():
        raise store.CorruptModel(f"model '{name}' has no {file or 'model file'}")
    try:
        if card["backend"] == "keras":
            import keras

            net = keras.saving.load_model(folder / file, compile=False, safe_mode=True)
            if card.get("convention") is not None:  # an imported Keras file: read studio images, give probabilities
                from mnist_core.models.convention import Convention, keras_adapted

                net = keras_adapted(net, Convention.from_dict(card["convention"]))
        elif card["backend"] in RUNTIME_BACKENDS:
            from mnist_core.models.convention import Convention
            from mnist_core.models.runtimes import open_runtime

            net = open_runtime(card["backend"], (folder / file).read_bytes(),
                               Convention.from_dict(card.get("convention") or {}))
        else:
            from mnist_core.models.numpy_nets import NumpyNet

            net = NumpyNet.load(folder / file)
    except Exception as exc:  # noqa: BLE001 - any decoding failure means a corrupt file
        raise store.CorruptModel(f"model '{name}' could not be loaded ({type(exc).__name__}: {exc})") from None
    return LoadedModel(name, card, net, card["backend"])


def load_ensemble(card: dict, root: Path | None = None) -> Ensemble:
    """The Ensemble for an ensemble card; a missing or broken member is a clear StoreError."""
    name, members = card.get("name"), []
    for member in member_names(card):
        try:
            member_card = store.read_card(member, root)
        except store.ModelNotFound:
            raise store.CorruptModel(f"ensemble '{name}' needs model '{member}', which is not in the store") from None
        if is_ensemble(member_card):
            raise store.CorruptModel(f"ensemble '{name}' lists '{member}', which is itself an ensemble")
        members.append(load(member, root))
    return Ensemble(name, card, members)
