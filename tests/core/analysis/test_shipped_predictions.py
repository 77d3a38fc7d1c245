"""The shipped models' test-set predictions ship beside their cards (Inspect's first visit on a fresh clone
predicts nothing), and `make predictions` writes them again after a model is replaced."""

import numpy as np
import pytest

from mnist_core import tasks
from mnist_core.analysis import predictions, testset
from mnist_core.data import mnist, shapes
from mnist_core.models import store
from mnist_core.models.numpy_nets import NumpyNet
from tests.conftest import REPO

MODELS = REPO / "models"
STALE = "stale or missing: run `make predictions` after replacing a shipped model, and commit its cache-test-probs.npz"


def test_the_shipped_default_answers_inspect_from_its_kept_file():
    splits = mnist.load_splits()
    assert predictions.is_cached(tasks.SHIPPED["digits"], splits.x_test, splits.sha256, MODELS), STALE


def test_the_shipped_shapes_model_keeps_predictions_for_its_own_file():
    """Its test split is drawn on first use (not part of the clone): the kept file must match the model's bytes
    and the default split's size; the split's checksum is checked when Inspect reads it."""
    name = tasks.SHIPPED["shapes"]
    with np.load(MODELS / name / predictions.FILE, allow_pickle=False) as kept:
        assert str(kept["fingerprint"]) == predictions.fingerprint(name, MODELS), STALE
        assert kept["probs"].shape == (shapes.SPLIT_SIZES["test"] * len(shapes.CLASSES), len(shapes.CLASSES))


def test_refresh_writes_only_what_is_stale(store_root, monkeypatch, capsys):
    x = np.random.default_rng(0).random((40, 28, 28, 1)).astype(np.float32)
    held = testset.HeldOutSet("digits", x, np.zeros(40, int), "sha-1", tuple("0123456789"), "test images")
    monkeypatch.setattr(testset, "load", lambda task: held)
    store.save("m", NumpyNet((784, 8, 10), seed=0), {"backend": "numpy"})
    assert predictions.refresh(["m"]) == [f"m: predicted 40 test images, kept in {store_root / 'm' / predictions.FILE}"]
    assert predictions.is_cached("m", x, "sha-1")
    assert predictions.main(["m"]) == 0 and capsys.readouterr().out == "m: kept predictions are up to date\n"
    store.save("m", NumpyNet((784, 8, 10), seed=1), {"backend": "numpy"})  # a replaced model
    assert not predictions.is_cached("m", x, "sha-1")
    assert predictions.refresh(["m"])[0].startswith("m: predicted 40")
    assert predictions.is_cached("m", x, "sha-1")
    with pytest.raises(store.StoreError):
        predictions.refresh(["ghost"])


def test_the_digits_test_set_from_raw_mnist_is_the_splits_one():
    """Inspect builds it from the raw MNIST Home already loaded; it must be what training's splits hold."""
    rng = np.random.default_rng(0)
    raw = mnist.Mnist(rng.integers(0, 256, (5100, 28, 28), dtype=np.uint8), rng.integers(0, 10, 5100, dtype=np.uint8),
                      rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), rng.integers(0, 10, 30, dtype=np.uint8),
                      source="synthetic", sha256="raw-sha")
    fast, full = testset.from_raw_mnist(raw), testset.from_mnist(mnist.make_splits(raw))
    assert fast.x.dtype == full.x.dtype == np.float32 and fast.x.shape == (30, 28, 28, 1)
    assert np.array_equal(fast.x, full.x) and np.array_equal(fast.y, full.y) and fast.y.dtype == full.y.dtype
    assert (fast.sha256, fast.task, fast.class_names, fast.description) == \
           (full.sha256, full.task, full.class_names, full.description)
