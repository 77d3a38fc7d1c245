"""Cached test-set predictions: computed once, kept beside the card, invalidated when the model changes."""

import numpy as np
import pytest

from mnist_core.analysis import predictions
from mnist_core.models import loading, store
from mnist_core.models.numpy_nets import NumpyNet

X = np.random.default_rng(0).random((50, 28, 28, 1)).astype(np.float32)
SHA = "test-set-sha"


class CountingLoader:
    def __init__(self, name):
        self.name, self.calls = name, 0

    def __call__(self):
        self.calls += 1
        return loading.load(self.name)


def _save(name, seed=0):
    store.save(name, NumpyNet((784, 8, 10), seed=seed), {"backend": "numpy"})


def test_computed_once_then_read_from_beside_the_card(store_root):
    _save("m")
    load = CountingLoader("m")
    first = predictions.test_probs("m", X, SHA, load=load)
    assert load.calls == 1 and (store_root / "m" / predictions.FILE).is_file()
    second = predictions.test_probs("m", X, SHA, load=load)
    assert load.calls == 1 and np.array_equal(first, second)
    assert np.allclose(first, loading.load("m").predict_proba(X), atol=1e-6)
    assert predictions.is_cached("m", X, SHA)


def test_attaching_does_not_look_like_a_new_model(store_root):
    _save("m")
    before = store.modified("m")
    predictions.test_probs("m", X, SHA)
    assert store.modified("m") == before  # the app's model cache stays warm
    assert store.list_names() == ["m"] and loading.load("m").card["name"] == "m"


def test_a_changed_model_file_invalidates_them(store_root):
    _save("m", seed=0)
    old = predictions.test_probs("m", X, SHA)
    NumpyNet((784, 8, 10), seed=1).save(store_root / "m" / store.NUMPY_FILE)  # replaced by hand, same folder
    assert not predictions.is_cached("m", X, SHA)
    load = CountingLoader("m")
    new = predictions.test_probs("m", X, SHA, load=load)
    assert load.calls == 1 and not np.allclose(old, new)
    assert np.allclose(new, loading.load("m").predict_proba(X), atol=1e-6)


def test_a_new_save_or_another_test_set_invalidates_them(store_root):
    _save("m", seed=0)
    predictions.test_probs("m", X, SHA)
    assert not predictions.is_cached("m", X, "another-sha")
    assert not predictions.is_cached("m", X[:10], SHA)
    _save("m", seed=2)
    assert not predictions.is_cached("m", X, SHA)


def test_an_ensemble_is_invalidated_by_a_retrained_member(store_root):
    _save("a", seed=0)
    _save("b", seed=1)
    store.save("ens", None, {"backend": "ensemble", "kind": "ensemble", "members": ["a", "b"]})
    first = predictions.test_probs("ens", X, SHA)
    assert predictions.is_cached("ens", X, SHA)
    _save("b", seed=3)
    assert not predictions.is_cached("ens", X, SHA)
    assert not np.allclose(first, predictions.test_probs("ens", X, SHA))


def test_a_torn_cache_file_is_recomputed(store_root):
    _save("m")
    good = predictions.test_probs("m", X, SHA)
    (store_root / "m" / predictions.FILE).write_bytes(b"PK\x03\x04 torn")
    assert not predictions.is_cached("m", X, SHA)
    assert np.array_equal(predictions.test_probs("m", X, SHA), good)


def test_an_unwritable_store_still_answers(store_root, monkeypatch):
    _save("m")
    monkeypatch.setattr(store, "_writing", _refuse)
    probs = predictions.test_probs("m", X, SHA)
    assert probs.shape == (50, 10) and not (store_root / "m" / predictions.FILE).exists()


def _refuse(root):
    raise PermissionError(13, "Read-only file system")


def test_attach_takes_only_cache_names(store_root):
    _save("m")
    with pytest.raises(store.StoreError, match="cache-"):
        store.attach("m", "model.npz", b"x")
    assert store.attach("ghost", "cache-x", b"x") is False
