"""The model store: models/<name>/ holds a model file and card.json. It only persists; loading.py loads.

Writes (save, copy, delete) hold an exclusive lock on the store folder and
work in a hidden folder beside the target that is renamed into place, so a
save killed at any moment leaves the store as it was; the next writer,
under the lock, finishes or undoes what a kill interrupted. Readers never
change anything: during an overwrite's two renames they find the old model
in its hidden folder, so a reader sees the old model or the new one, never
half of one and never neither. Names are validated and never used raw as paths.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from mnist_core import access, paths
from mnist_core.errors import UserError
from mnist_core.tasks import SHIPPED

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KERAS_FILE, NUMPY_FILE, CARD_FILE = "model.keras", "model.npz", "card.json"
ONNX_FILE, LITERT_FILE = "model.onnx", "model.tflite"  # imported models (importing.py), run by their runtimes
FILES = {"keras": KERAS_FILE, "numpy": NUMPY_FILE, "ensemble": None,  # a card's backend -> its model file
         "onnx": ONNX_FILE, "litert": LITERT_FILE}
MODEL_FILES = tuple(f for f in FILES.values() if f)
# Hidden folders: a save being written, the old model during an overwrite, a model being deleted.
TMP, OLD, GONE = ".tmp-", ".trash-", ".deleted-"
READ_ATTEMPTS = 5
CACHE_PREFIX = "cache-"  # derived files kept beside a card (attach); never part of the model
CACHE_RE = re.compile(r"^cache-[a-z0-9_.-]{1,64}$")


class StoreError(UserError, ValueError):
    """Base class: the message is meant for the user."""


class InvalidName(StoreError):
    pass


class ModelNotFound(StoreError):
    pass


class CorruptModel(StoreError):
    pass


class NameTaken(StoreError):
    """A new model's name is in use and the caller did not ask to replace it."""


class ProtectedName(StoreError):
    """A shipped model's name (or its kept predecessor's): only promote writes it."""


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidName(f"invalid model name {name!r}: use 1-64 lowercase letters, digits, '-' or '_', "
                          "starting with a letter or digit")
    return name


PREVIOUS_SUFFIX = "-previous"  # promote keeps the model it replaces as <name>-previous


def previous_name(name: str) -> str:
    """Where promote keeps the model it replaces: default -> default-previous."""
    return validate_name(f"{name}{PREVIOUS_SUFFIX}")


def protected_names() -> tuple[str, ...]:
    """The shipped models (default, shapes) and the predecessors promote keeps beside them."""
    shipped = tuple(SHIPPED.values())
    return shipped + tuple(n + PREVIOUS_SUFFIX for n in shipped)


def exists(name: str, root: Path | None = None) -> bool:
    return validate_name(name) in list_names(root)


def check_new_name(name: str, replace: bool = False, root: Path | None = None) -> str:
    """The one rule for a name a writer is about to save under (train, fine-tune, sweep, ensemble, import, copy).

    A shipped model's name (default, shapes, and the <name>-previous that promote
    keeps) is written only by promote, whatever `replace` says; any other saved
    name is replaced only when the caller says so (replace=True: --replace on the
    command line, the Replace box on the Train page). Call it before the work
    starts, so a refused run costs nothing. Returns the name; raises
    InvalidName, ProtectedName or NameTaken (all StoreErrors) with a message for
    the user.
    """
    validate_name(name)
    if name in protected_names():
        shipped = name.removesuffix(PREVIOUS_SUFFIX)
        raise ProtectedName(f"'{name}' is " + ("a shipped model" if name == shipped else
                                                  f"the model promote kept when it replaced '{shipped}'")
                            + f": only `python -m mnist_core promote CANDIDATE --to {shipped}` (or Promote on "
                            "the Models and Sweeps pages) writes it; choose another name")
    if not replace and exists(name, root):
        raise NameTaken(f"a model named '{name}' already exists; choose another name, or say to replace it "
                        "(--replace on the command line, the Replace box on the Train page)")
    return name


def _root(root: Path | None) -> Path:
    return Path(root or paths.models_dir())


def model_dir(name: str, root: Path | None = None) -> Path:
    return _root(root) / validate_name(name)


def file_name(card: dict) -> str | None:
    """The model file a card's backend is saved in (None for an ensemble); an unknown backend is a StoreError."""
    backend = card.get("backend")
    if backend not in FILES:
        raise StoreError(f"model '{card.get('name')}' has backend {backend!r}; "
                         f"a card's backend must be one of {', '.join(FILES)}")
    return FILES[backend]


def model_file(name: str, root: Path | None = None) -> Path | None:
    """Path of a saved model's file (None for an ensemble, which has none); it may be missing on disk."""
    file = file_name(read_card(name, root))
    return model_dir(name, root) / file if file else None


# --- writers ---------------------------------------------------------------

@contextmanager
def _writing(root: Path):
    """Hold the store's write lock, after finishing or undoing what a killed writer left."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # on the folder itself: no lock file to list, ignore or commit
        _recover(root)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recover(root: Path) -> None:
    """Finish or undo saves and deletes that a kill interrupted; only ever called under the write lock."""
    for entry in root.iterdir():
        if entry.name.startswith(OLD):
            name = _hidden_name(entry.name, OLD)
            if name and not (root / name).exists() and _restorable(entry):
                os.replace(entry, root / name)  # killed between the two renames of an overwrite
            else:
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith((TMP, GONE)):
            shutil.rmtree(entry, ignore_errors=True)  # no writer is running: an abandoned save or delete


def _hidden_name(entry: str, prefix: str) -> str | None:
    """'<prefix><name>-<hex>' -> name, when it is a valid one."""
    name = entry[len(prefix):].rpartition("-")[0]
    return name if NAME_RE.match(name) else None


def _restorable(old: Path) -> bool:
    # '.deleted' marks a delete by earlier versions of this module, which shared the OLD prefix.
    return (old / CARD_FILE).is_file() and not (old / ".deleted").exists()


class FileBytes:
    """A model file's bytes, for save(): written as they are (an imported file keeps its checksum)."""

    def __init__(self, data: bytes):
        self.data = bytes(data)

    def save(self, path) -> None:
        Path(path).write_bytes(self.data)


def save(name: str, model, card: dict, root: Path | None = None) -> Path:
    """Atomically write model + card as models/<name>/, replacing any old one.

    The card's backend names the file: "keras" -> model.keras, "numpy" ->
    model.npz, "ensemble" -> none (model is None; the card lists the members).
    """
    access.require_editor(f"save model '{name}'")
    validate_name(name)
    file = file_name({**card, "name": name})
    if (file is None) != (model is None):
        raise StoreError(f"model '{name}': backend {card['backend']!r} "
                         + ("saves no model object" if file is None else "needs a model to save"))
    root = _root(root)
    with _writing(root), _staged(root, name) as tmp:
        if file:
            model.save(tmp / file)
        (tmp / CARD_FILE).write_text(json.dumps({**card, "file": file, "name": name}, indent=1,
                                                default=_json_default))
    return root / name


def copy(source: str, target: str, card_updates: dict | None = None, root: Path | None = None) -> Path:
    """Atomically copy models/<source> to models/<target> (replacing it), its card renamed and updated.

    Files are copied as they are (no TensorFlow needed); an ensemble's card is
    copied with its member list, so the copy averages the same members.
    """
    access.require_editor(f"copy model '{source}' to '{target}'")
    validate_name(source)
    validate_name(target)
    if source == target:
        raise StoreError(f"cannot copy model '{source}' onto itself")
    root = _root(root)
    with _writing(root):
        card, src = read_card(source, root), root / source  # no writer but us: models/<source> is complete
        with _staged(root, target) as tmp:
            for file in MODEL_FILES:  # the names loading reads; never a path taken from the card
                if (src / file).is_file():
                    shutil.copy2(src / file, tmp / file)
            card = {**card, **(card_updates or {}), "name": target}
            (tmp / CARD_FILE).write_text(json.dumps(card, indent=1, default=_json_default))
    return root / target


@contextmanager
def _staged(root: Path, name: str):
    """A temporary folder beside the store that becomes models/<name> when the block ends normally."""
    tmp = root / f"{TMP}{name}-{secrets.token_hex(4)}"
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
        old = root / f"{OLD}{name}-{secrets.token_hex(4)}"
        os.replace(target, old)  # readers find the old model here until the next line
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def delete(name: str, root: Path | None = None) -> None:
    access.require_editor(f"delete model '{name}'")
    root = _root(root)
    path = model_dir(name, root)
    with _writing(root):
        if not path.is_dir():
            raise ModelNotFound(_not_found_message(name, root))
        users = ensembles_using(name, root)
        if users:
            raise StoreError(f"model '{name}' is a member of ensemble {', '.join(repr(u) for u in users)}; "
                             "delete the ensemble first")
        gone = root / f"{GONE}{name}-{secrets.token_hex(4)}"
        os.replace(path, gone)  # one rename: from here on no reader finds it
        shutil.rmtree(gone, ignore_errors=True)


def attach(name: str, file: str, data: bytes, root: Path | None = None) -> bool:
    """Write a derived file (a cache, such as the test-set predictions) into models/<name>/, under the lock.

    It is no part of the model: loading, copy() and modified() ignore it, and
    the next save of the model drops it (a save makes a new folder). So it
    needs no editor role. Returns False, writing nothing, when the model is
    gone or its folder cannot be written (a read-only deployment).
    """
    if not CACHE_RE.match(file):
        raise StoreError(f"invalid cache file name {file!r}: it must start with {CACHE_PREFIX!r}")
    root = _root(root)
    folder = model_dir(name, root)
    tmp = folder / f".{file}.{secrets.token_hex(4)}"
    try:
        with _writing(root):
            if not (folder / CARD_FILE).is_file():
                return False
            tmp.write_bytes(data)
            os.replace(tmp, folder / file)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        return False
    return True


def read_attached(name: str, file: str, reader, root: Path | None = None):
    """reader(card, model folder, bytes of the attached file or None) on one consistent version of the model."""
    def read_both(folder: Path, card: dict):
        try:
            data = (folder / file).read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as exc:
            raise StoreError(f"model '{name}': cannot read {file}: {exc}") from None
        return reader(card, folder, data)

    return read(name, read_both, root)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# --- readers: they never change the store ---------------------------------

def _locate(root: Path, name: str) -> Path | None:
    """The folder holding models/<name> now: itself, or during an overwrite the old model's hidden folder."""
    target = root / name
    if target.is_dir():
        return target
    olds = [p for p in root.glob(f"{OLD}{name}-*") if _hidden_name(p.name, OLD) == name and _restorable(p)]
    if olds:
        return max(olds, key=lambda p: p.stat().st_mtime_ns, default=None)
    return target if target.is_dir() else None  # the overwrite may have finished meanwhile


def _identity(folder: Path):
    try:
        st = folder.stat()
    except OSError:
        return None
    return st.st_ino, st.st_ctime_ns  # a rename changes ctime; every save makes a new folder


def read(name: str, reader=None, root: Path | None = None):
    """reader(folder, card) on one consistent version of models/<name> (the card alone without a reader).

    Retries when a writer swapped or removed the folder while it was being
    read, so card and model file always come from the same save.
    """
    validate_name(name)
    root = _root(root)
    for _ in range(READ_ATTEMPTS):
        folder = _locate(root, name)
        if folder is None:
            raise ModelNotFound(_not_found_message(name, root))
        before = _identity(folder)
        try:
            card = _read_card(folder, name)
            result = reader(folder, card) if reader else card
        except StoreError:
            if _identity(folder) != before:
                continue
            raise
        if _identity(folder) == before:
            return result
    raise StoreError(f"model '{name}' kept changing while it was read; try again")


def _read_card(folder: Path, name: str) -> dict:
    try:
        return json.loads((folder / CARD_FILE).read_text())
    except OSError:
        raise CorruptModel(f"model '{name}' has no readable {CARD_FILE}") from None
    except ValueError as exc:
        raise CorruptModel(f"model '{name}' has a corrupt {CARD_FILE}: {exc}") from None


def read_card(name: str, root: Path | None = None) -> dict:
    return read(name, None, root)


def _not_found_message(name: str, root: Path | None) -> str:
    names = list_names(root)
    return f"no model named '{name}'" + (f"; saved models: {', '.join(names)}" if names else "; the store is empty")


def list_names(root: Path | None = None) -> list[str]:
    root = _root(root)
    for _ in range(READ_ATTEMPTS):  # list again if a writer renamed something meanwhile
        try:
            stamp = root.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        entries = list(root.iterdir())
        if root.stat().st_mtime_ns == stamp:
            break
    names = {p.name for p in entries if NAME_RE.match(p.name) and (p / CARD_FILE).is_file()}
    olds = {_hidden_name(p.name, OLD) for p in entries if p.name.startswith(OLD) and _restorable(p)}
    return sorted(names | {n for n in olds if n and not (root / n).exists()})


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
    root = _root(root)
    stamp = _stamp(_locate(root, validate_name(name)))
    try:
        card = read_card(name, root)
    except StoreError:
        return stamp
    if card.get("kind") == "ensemble" and isinstance(card.get("members"), list):
        members = [m for m in card["members"] if isinstance(m, str) and NAME_RE.match(m)]
        stamp = max([stamp] + [_stamp(_locate(root, m)) for m in members])
    return stamp


def _stamp(path: Path | None) -> float:
    try:
        # Only what loading reads: an attached cache written later must not look like a new model.
        return max((p.stat().st_mtime for p in path.iterdir() if p.name in (CARD_FILE,) + MODEL_FILES),
                   default=0.0) if path else 0.0
    except OSError:  # swapped by a writer meanwhile
        return 0.0


def ensembles_using(name: str, root: Path | None = None) -> list[str]:
    """Names of the ensembles that list `name` as a member."""
    return [c["name"] for c in list_models(root) if c.get("kind") == "ensemble" and name in (c.get("members") or [])]
