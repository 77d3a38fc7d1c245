import gzip
import hashlib

import numpy as np
import pytest

from mnist_core.data import mnist
from tests.conftest import SHARED, REPO


def _write_npz(path, n_train=20, n_test=10, **override):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  y_train=rng.integers(0, 10, n_train).astype(np.uint8),
                  x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                  y_test=rng.integers(0, 10, n_test).astype(np.uint8))
    arrays.update(override)
    np.savez(path, **arrays)
    return arrays


def _idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def test_explicit_npz_path_loads_and_validates(tmp_path):
    arrays = _write_npz(tmp_path / "m.npz")
    m = mnist.load_mnist(tmp_path / "m.npz")
    assert np.array_equal(m.x_train, arrays["x_train"]) and np.array_equal(m.y_test, arrays["y_test"])
    assert m.source == str(tmp_path / "m.npz")
    assert m.sha256 == hashlib.sha256((tmp_path / "m.npz").read_bytes()).hexdigest()


@pytest.mark.parametrize("compress", [True, False])
def test_idx_directory_gz_and_raw(tmp_path, compress):
    arrays = _write_npz(tmp_path / "ref.npz")
    for key, stem in mnist.IDX_NAMES.items():
        raw = _idx_bytes(arrays[key])
        if compress:
            (tmp_path / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (tmp_path / stem).write_bytes(raw)
    m = mnist.load_mnist(tmp_path)
    assert np.array_equal(m.x_train, arrays["x_train"]) and np.array_equal(m.y_train, arrays["y_train"])


def test_real_idx_test_set_matches_npz():
    images = mnist.read_idx(SHARED / "data/mnist/t10k-images-idx3-ubyte.gz")
    labels = mnist.read_idx(SHARED / "data/mnist/t10k-labels-idx1-ubyte.gz")
    m = mnist.load_mnist()
    assert images.shape == (10000, 28, 28)
    assert np.array_equal(images, m.x_test) and np.array_equal(labels, m.y_test)


def test_repo_copy_matches_published_checksum():
    want = dict(line.split()[::-1] for line in (SHARED / "data/mnist/SHA256SUMS").read_text().splitlines())
    assert hashlib.sha256((REPO / "data/mnist.npz").read_bytes()).hexdigest() == want["mnist.npz"]


def test_env_var_is_used_before_repo_copy(tmp_path, monkeypatch):
    _write_npz(tmp_path / "env.npz", n_train=30)
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "env.npz"))
    assert len(mnist.load_mnist().x_train) == 30


def test_corrupt_explicit_path_is_an_error_not_a_fallback(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(mnist.MnistLoadError, match="explicit path .*not a readable .npz"):
        mnist.load_mnist(tmp_path / "bad.npz")


def test_missing_everywhere_names_every_place_tried(tmp_path, monkeypatch):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated zip")
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nothing-here.npz"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(mnist.paths, "repo_mnist", lambda: tmp_path / "bad.npz")
    with pytest.raises(mnist.MnistLoadError) as err:
        mnist.load_mnist(allow_download=False)
    message = str(err.value)
    assert "MNIST_PATH" in message and "nothing-here.npz: not found" in message
    assert "repo copy" in message and "not a readable .npz" in message
    assert "Keras cache" in message


@pytest.mark.parametrize("override, needle", [
    (dict(x_train=np.zeros((20, 28, 27), np.uint8)), "expected (N, 28, 28)"),
    (dict(x_train=np.zeros((20, 28, 28), np.float32)), "dtype"),
    (dict(y_train=np.full(20, 12, np.uint8)), "outside 0-9"),
    (dict(y_test=np.zeros(3, np.uint8)), "y_test has shape"),
])
def test_invalid_arrays_are_rejected(tmp_path, override, needle):
    _write_npz(tmp_path / "m.npz", **override)
    with pytest.raises(mnist.MnistLoadError, match="Tried") as err:
        mnist.load_mnist(tmp_path / "m.npz")
    assert needle in str(err.value)


def test_truncated_idx_is_rejected(tmp_path):
    (tmp_path / "x").write_bytes(_idx_bytes(np.zeros((5, 28, 28), np.uint8))[:-10])
    with pytest.raises(ValueError, match="size mismatch"):
        mnist.read_idx(tmp_path / "x")


def test_fixed_split_sizes_and_ranges():
    s = mnist.load_splits()
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (55000, 5000, 10000)
    assert s.x_train.dtype == np.float32 and s.x_train.shape[1:] == (28, 28, 1)
    assert 0.0 <= s.x_train.min() and s.x_train.max() <= 1.0
    raw = mnist.load_mnist()
    assert np.array_equal(s.y_val, raw.y_train[55000:])  # validation is the last 5,000, always
