"""MNIST loading: Keras-layout .npz or IDX files, validated, fixed splits.

Lookup order (first usable wins): an explicit path (then nothing else), the
MNIST_PATH environment variable, the repo's data/mnist.npz, Keras' own cache,
then a Keras download. A failure names every place tried and why it was rejected.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from mnist_core import paths
from mnist_core.errors import UserError
from mnist_core.tasks import DIGITS

VALIDATION_SIZE = 5000
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class MnistLoadError(UserError, RuntimeError):
    """No usable MNIST found; the message lists every place tried."""


@dataclass(frozen=True)
class Mnist:
    """Raw MNIST as uint8 arrays, white digit on black, plus provenance."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    sha256: str


@dataclass(frozen=True)
class Splits:
    """Model-ready float32 [0, 1] arrays of shape (N, 28, 28, 1), of MNIST or of the generated shapes
    (data.shapes.load_splits); a card records class_names and, for generated data, its generator_version."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    sha256: str
    class_names: tuple = DIGITS
    generator_version: int | None = None  # None: not generated (MNIST)


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzipped or raw) of unsigned bytes."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"corrupt gzip: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError("not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise ValueError(f"IDX data type 0x{raw[2]:02x} is not unsigned byte")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError("truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(shape))
    if len(raw) - header != count:
        raise ValueError(f"IDX size mismatch: header says {count} bytes, file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    raise ValueError(f"missing {stem}[.gz]")


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.is_dir():
        return {key: read_idx(_find_idx(path, stem)) for key, stem in IDX_NAMES.items()}
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in IDX_NAMES if k not in npz.files]
            if missing:
                raise ValueError(f"npz lacks arrays {missing}")
            return {k: npz[k] for k in IDX_NAMES}
    except ValueError as exc:
        if "npz lacks" in str(exc):
            raise
        raise ValueError(f"not a readable .npz ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - np.load raises a zoo of errors (BadZipFile, EOFError, ...)
        raise ValueError(f"not a readable .npz ({type(exc).__name__}: {exc})") from None


def _validate(arrays: dict[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"x_{split} has shape {x.shape}, expected (N, 28, 28)")
        if x.dtype != np.uint8:
            raise ValueError(f"x_{split} has dtype {x.dtype}, expected uint8")
        if y.shape != (x.shape[0],):
            raise ValueError(f"y_{split} has shape {y.shape}, expected ({x.shape[0]},)")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise ValueError(f"y_{split} has labels outside 0-9")


def _sha256(path: Path) -> str:
    if path.is_dir():
        digest = hashlib.sha256()
        for stem in IDX_NAMES.values():
            digest.update(_find_idx(path, stem).read_bytes())
        return digest.hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _candidates(path: str | os.PathLike | None) -> list[tuple[str, Path | None]]:
    if path is not None:  # an explicit choice is never silently replaced by another dataset
        return [("explicit path", Path(path))]
    places: list[tuple[str, Path | None]] = []
    if os.environ.get("MNIST_PATH"):
        places.append(("MNIST_PATH", Path(os.environ["MNIST_PATH"])))
    places.append(("repo copy", paths.repo_mnist()))
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    places.append(("Keras cache", keras_home / "datasets" / "mnist.npz"))
    return places


def load_mnist(path: str | os.PathLike | None = None, allow_download: bool = True) -> Mnist:
    """Load raw MNIST from the first usable place; see the module docstring."""
    tried: list[str] = []
    for label, place in _candidates(path):
        if not place.exists():
            tried.append(f"{label} {place}: not found")
            continue
        try:
            arrays = _read_arrays(place)
            _validate(arrays)
        except (ValueError, OSError) as exc:
            tried.append(f"{label} {place}: {exc}")
            continue
        return Mnist(**{k: np.asarray(v) for k, v in arrays.items()},
                     source=str(place), sha256=_sha256(place))
    if allow_download and path is None:
        try:
            import keras  # heavy import only on this last resort

            (xt, yt), (xs, ys) = keras.datasets.mnist.load_data()
            cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
            return Mnist(xt, yt, xs, ys, source="keras download", sha256=_sha256(cached))
        except Exception as exc:  # noqa: BLE001 - any download failure is reported, not raised
            tried.append(f"Keras download: {type(exc).__name__}: {exc}")
    raise MnistLoadError("Could not load MNIST. Tried:\n  " + "\n  ".join(tried))


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]


def make_splits(mnist: Mnist, validation: int = VALIDATION_SIZE) -> Splits:
    """Fixed split: the last `validation` training images are the validation set."""
    n_train = len(mnist.x_train) - validation
    if n_train <= 0:
        raise ValueError(f"validation size {validation} leaves no training data")
    x = to_model_input(mnist.x_train)
    y = mnist.y_train.astype(np.int32)
    return Splits(x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                  to_model_input(mnist.x_test), mnist.y_test.astype(np.int32), mnist.sha256)


@lru_cache(maxsize=2)
def load_splits(path: str | None = None, validation: int = VALIDATION_SIZE) -> Splits:
    """Cached model-ready splits; callers must treat the arrays as read-only."""
    return make_splits(load_mnist(path), validation)
