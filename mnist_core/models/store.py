"""The model store: models/<name>/ holds a model file and card.json.

Saves are atomic: everything is written into a hidden temporary folder beside
the target and renamed into place, so a reader never sees half a model and a
save killed at any moment leaves the store as it was. Names are validated and
never used raw as paths. Keras models load with safe_mode=True.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_core import access, paths

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KERAS_FILE, NUMPY_FILE, CARD_FILE = "model.keras", "model.npz", "card.json"


class StoreError(ValueError):
    """Base class: the message is meant for the user."""


class InvalidName(StoreError):
    pass


class ModelNotFound(StoreError):
    pass


class CorruptModel(StoreError):
    pass


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidName(f"invalid model name {name!r}: use 1-64 lowercase letters, digits, '-' or '_', "
                          "starting with a letter or digit")
    return name


def _root(root: Path | None) -> Path:
    return Path(root or paths.models_dir())


def _recover(root: Path) -> None:
    """Finish or undo saves and deletes that a kill interrupted."""
    for trash in root.glob(".trash-*"):
        name = trash.name.split("-", 1)[1].rsplit("-", 1)[0]
        if NAME_RE.match(name) and not (root / name).exists() and (trash / CARD_FILE).is_file() \
                and not (trash / ".deleted").exists():
            os.replace(trash, root / name)  # killed between the two renames of an overwrite
        else:
            shutil.rmtree(trash, ignore_errors=True)
    for tmp in root.glob(".tmp-*"):
        if time.time() - tmp.stat().st_mtime > 3600:  # an old abandoned save
            shutil.rmtree(tmp, ignore_errors=True)


def model_dir(name: str, root: Path | None = None) -> Path:
    return _root(root) / validate_name(name)


def save(name: str, model, card: dict, root: Path | None = None) -> Path:
    """Atomically write model + card as models/<name>/, replacing any old one."""
    access.require_editor(f"save model '{name}'")
    validate_name(name)
    root = _root(root)
    with _staged(root, name) as tmp:
        if model is None:  # an ensemble: the card names its members
            card = {**card, "file": None}
        elif hasattr(model, "save") and not hasattr(model, "sizes"):
            model.save(tmp / KERAS_FILE)
            card = {**card, "file": KERAS_FILE}
        else:
            model.save(tmp / NUMPY_FILE)
            card = {**card, "file": NUMPY_FILE}
        (tmp / CARD_FILE).write_text(json.dumps({**card, "name": name}, indent=1, default=_json_default))
    return root / name


def copy(source: str, target: str, card_updates: dict | None = None, root: Path | None = None) -> Path:
    """Atomically copy models/<source> to models/<target> (replacing it), its card renamed and updated.

    Files are copied as they are (no TensorFlow needed); an ensemble's card is
    copied with its member list, so the copy averages the same members.
    """
    access.require_editor(f"copy model '{source}' to '{target}'")
    card = read_card(source, root)
    validate_name(target)
    if source == target:
        raise StoreError(f"cannot copy model '{source}' onto itself")
    root, src = _root(root), model_dir(source, root)
    with _staged(root, target) as tmp:
        for file in (KERAS_FILE, NUMPY_FILE):  # the names load() reads; never a path taken from the card
            if (src / file).is_file():
                shutil.copy2(src / file, tmp / file)
        card = {**card, **(card_updates or {}), "name": target}
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=1, default=_json_default))
    return root / target


@contextmanager
def _staged(root: Path, name: str):
    """A temporary folder beside the store that becomes models/<name> when the block ends normally."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{name}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        yield tmp
        _commit(tmp, root, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(tmp: Path, root: Path, name: str) -> None:
    """Put a finished temporary folder in place as models/<name>; a kill leaves old or new, never neither."""
    target = root / name
    if target.exists():
        trash = root / f".trash-{name}-{secrets.token_hex(4)}"
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_card(name: str, root: Path | None = None) -> dict:
    path = model_dir(name, root)
    if not path.is_dir():
        raise ModelNotFound(_not_found_message(name, root))
    try:
        return json.loads((path / CARD_FILE).read_text())
    except OSError:
        raise CorruptModel(f"model '{name}' has no readable {CARD_FILE}") from None
    except ValueError as exc:
        raise CorruptModel(f"model '{name}' has a corrupt {CARD_FILE}: {exc}") from None


def _not_found_message(name: str, root: Path | None) -> str:
    names = list_names(root)
    return f"no model named '{name}'" + (f"; saved models: {', '.join(names)}" if names else "; the store is empty")


def list_names(root: Path | None = None) -> list[str]:
    root = _root(root)
    if not root.is_dir():
        return []
    _recover(root)
    return sorted(p.name for p in root.iterdir() if NAME_RE.match(p.name) and (p / CARD_FILE).is_file())


def list_models(root: Path | None = None) -> list[dict]:
    """Every readable card; unreadable ones come back with an 'error' key."""
    cards = []
    for name in list_names(root):
        try:
            cards.append(read_card(name, root))
        except StoreError as exc:
            cards.append({"name": name, "error": str(exc)})
    return cards


def modified(name: str, root: Path | None = None) -> float:
    """Modification time of a saved model (an ensemble: of it and its members): the cache key."""
    stamp = _stamp(model_dir(name, root))
    try:
        card = read_card(name, root)
    except StoreError:
        return stamp
    if card.get("kind") == "ensemble" and isinstance(card.get("members"), list):
        members = [m for m in card["members"] if isinstance(m, str) and NAME_RE.match(m)]
        stamp = max([stamp] + [_stamp(model_dir(m, root)) for m in members])
    return stamp


def _stamp(path: Path) -> float:
    return max((p.stat().st_mtime for p in path.iterdir()), default=0.0) if path.is_dir() else 0.0


def ensembles_using(name: str, root: Path | None = None) -> list[str]:
    """Names of the ensembles that list `name` as a member."""
    return [c["name"] for c in list_models(root) if c.get("kind") == "ensemble" and name in (c.get("members") or [])]


def delete(name: str, root: Path | None = None) -> None:
    access.require_editor(f"delete model '{name}'")
    path = model_dir(name, root)
    if not path.is_dir():
        raise ModelNotFound(_not_found_message(name, root))
    users = ensembles_using(name, root)
    if users:
        raise StoreError(f"model '{name}' is a member of ensemble {', '.join(repr(u) for u in users)}; "
                         "delete the ensemble first")
    trash = path.parent / f".trash-{name}-{secrets.token_hex(4)}"
    os.replace(path, trash)
    (trash / ".deleted").touch()
    shutil.rmtree(trash, ignore_errors=True)


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
            return np.zeros((0, 10), np.float32)
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


def load(name: str, root: Path | None = None) -> LoadedModel:
    """Load models/<name>; missing or corrupt models raise a StoreError with a clear message."""
    card = read_card(name, root)
    if card.get("kind") == "ensemble":
        from mnist_core.models import ensembles

        return ensembles.load({**card, "name": name}, root)
    path = model_dir(name, root)
    try:
        if (path / KERAS_FILE).is_file():
            import keras

            net = keras.saving.load_model(path / KERAS_FILE, compile=False, safe_mode=True)
            return LoadedModel(name, card, net, "keras")
        if (path / NUMPY_FILE).is_file():
            from mnist_core.models.numpy_nets import NumpyNet

            return LoadedModel(name, card, NumpyNet.load(path / NUMPY_FILE), "numpy")
    except Exception as exc:  # noqa: BLE001 - any decoding failure means a corrupt file
        raise CorruptModel(f"model '{name}' could not be loaded ({type(exc).__name__}: {exc})") from None
    raise CorruptModel(f"model '{name}' has no {KERAS_FILE} or {NUMPY_FILE}")
