import numpy as np
import pytest

from mnist_core.models import ensembles, loading, store, zoo
from mnist_core.training.config import TrainConfig


def _save(name, kind="softmax", seed=0, accuracy=0.9):
    import keras

    keras.utils.set_random_seed(seed)
    net = zoo.build(TrainConfig.for_model(kind))
    card = {"kind": kind, "backend": zoo.MODELS[kind].backend, "test_accuracy": accuracy, "train_seconds": 1.5,
            "config": TrainConfig.for_model(kind).to_dict(), "train_size": 500}
    store.save(name, net, card)
    return net


def test_ensemble_averages_members_and_acts_like_a_model(store_root, tiny_splits):
    _save("m1", seed=1)
    _save("m2", seed=2)
    _save("m3", kind="numpy_softmax", seed=3)
    card = ensembles.create("team", ["m1", "m2"], splits=tiny_splits)
    assert card["kind"] == "ensemble" and card["members"] == ["m1", "m2"] and card["file"] is None
    assert 0 <= card["test_accuracy"] <= 1 and len(card["confusion"]) == 10 and card["train_seconds"] == 3.0
    model = loading.load("team")
    x = tiny_splits.x_test[:7]
    expected = (loading.load("m1").predict_proba(x) + loading.load("m2").predict_proba(x)) / 2
    np.testing.assert_allclose(model.predict_proba(x), expected, rtol=1e-5, atol=1e-6)
    assert model.predict(x).shape == (7,) and model.predict_proba(x[:0]).shape == (0, 10)
    assert model.net is model.members[0].net and model.count_params() == 2 * 7850
    assert model.card["member_test_accuracy"] == {"m1": 0.9, "m2": 0.9}
    assert "team" in store.list_names()
    mixed = ensembles.create("mixed", ["m1", "m3"], splits=tiny_splits)  # Keras + NumPy members
    expected = (loading.load("m1").predict_proba(x) + loading.load("m3").predict_proba(x)) / 2
    np.testing.assert_allclose(loading.load("mixed").predict_proba(x), expected, rtol=1e-5, atol=1e-6)
    assert mixed["params"] > 0


def test_bad_ensembles_are_refused_with_reasons(store_root, tiny_splits):
    _save("a1")
    _save("a2", seed=1)
    with pytest.raises(store.StoreError, match="at least two"):
        ensembles.create("e", ["a1"], splits=tiny_splits)
    with pytest.raises(store.StoreError, match="twice"):
        ensembles.create("e", ["a1", "a1"], splits=tiny_splits)
    with pytest.raises(store.StoreError, match="not in the store"):
        ensembles.create("e", ["a1", "ghost"], splits=tiny_splits)
    with pytest.raises(store.InvalidName):
        ensembles.create("Bad Name", ["a1", "a2"], splits=tiny_splits)
    ensembles.create("e", ["a1", "a2"], splits=tiny_splits)
    with pytest.raises(store.StoreError, match="itself an ensemble"):
        ensembles.create("e2", ["a1", "e"], splits=tiny_splits)
    assert "e2" not in store.list_names()


def test_members_are_protected_and_changes_invalidate_the_cache_key(store_root, tiny_splits):
    import os

    _save("b1")
    _save("b2", seed=1)
    ensembles.create("pair", ["b1", "b2"], splits=tiny_splits)
    with pytest.raises(store.StoreError, match="member of ensemble 'pair'"):
        store.delete("b1")
    before = store.modified("pair")
    card_file = store.model_dir("b2") / "card.json"
    os.utime(card_file, (before + 100, before + 100))
    assert store.modified("pair") == pytest.approx(before + 100)
    store.delete("pair")
    store.delete("b1")
    assert store.list_names() == ["b2"]


def test_a_missing_member_is_a_clear_error(store_root, tiny_splits):
    import shutil

    _save("c1")
    _save("c2", seed=1)
    ensembles.create("duo", ["c1", "c2"], splits=tiny_splits)
    shutil.rmtree(store.model_dir("c2"))
    with pytest.raises(store.CorruptModel, match="needs model 'c2'"):
        loading.load("duo")


def test_loaded_model_graph_matches_eager_call(store_root, tiny_splits):
    net = _save("g1", kind="lenet5")
    model = loading.load("g1")
    x = tiny_splits.x_test[:5]
    np.testing.assert_allclose(model.predict_proba(x), np.asarray(net(x, training=False)), rtol=1e-5, atol=1e-6)
    one = model.predict_proba(x[:1])  # another batch size: same traced function
    np.testing.assert_allclose(one, model.predict_proba(x)[:1], rtol=1e-5, atol=1e-6)


def test_cli_ensemble(store_root, capsys):
    import json

    from mnist_core import cli

    _save("d1")
    _save("d2", seed=1)
    assert cli.main(["ensemble", "both", "d1", "d2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["members"] == ["d1", "d2"] and 0 <= out["test_accuracy"] <= 1
    assert cli.main(["ensemble", "solo", "d1"]) == 2
    assert "at least two" in capsys.readouterr().err


def _save_shapes(name, seed):
    import keras

    from mnist_core.data.shapes import CLASSES

    keras.utils.set_random_seed(seed)
    config = TrainConfig.for_model("softmax", task="shapes")
    card = {"kind": "softmax", "backend": "keras", "test_accuracy": 0.5, "config": config.to_dict(),
            "task": "shapes", "class_names": list(CLASSES)}
    store.save(name, zoo.build(config), card)


def test_an_ensemble_of_shapes_models_is_scored_on_the_shapes_test_split(store_root, monkeypatch):
    from mnist_core.analysis import testset
    from mnist_core.data.shapes import CLASSES

    monkeypatch.setenv("MNIST_STUDIO_SHAPES_SIZES", "test=2")
    _save_shapes("s1", 1)
    _save_shapes("s2", 2)
    card = ensembles.create("shape-team", ["s1", "s2"])
    held = testset.load("shapes")
    assert card["task"] == "shapes" and card["class_names"] == list(CLASSES)
    assert card["dataset_sha256"] == held.sha256 and len(card["confusion"]) == len(CLASSES) == 9
    assert sum(map(sum, card["confusion"])) == len(held.y) == 18
    assert loading.load("shape-team").task == "shapes"


def test_members_of_different_tasks_are_refused(store_root, tiny_splits):
    _save("digits-one", seed=1)
    _save_shapes("shapes-one", 1)
    with pytest.raises(store.StoreError, match=r"mix them: 'digits-one' \(digits\), 'shapes-one' \(shapes\)"):
        ensembles.create("muddle", ["digits-one", "shapes-one"], splits=tiny_splits)
    assert "muddle" not in store.list_names()
