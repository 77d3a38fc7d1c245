"""Choosing a model by validation and copying it in the store (no TensorFlow needed)."""

import json

import numpy as np
import pytest

from mnist_core import cli

from mnist_core.models import loading, selection, store
from mnist_core.models.numpy_nets import NumpyNet


def _save(name: str, val_acc: list, val_loss: list, test_acc: float, seed: int = 0) -> NumpyNet:
    net = NumpyNet((784, 10), seed=seed)
    history = {"accuracy": [0.9] * len(val_acc), "val_accuracy": val_acc, "val_loss": val_loss}
    store.save(name, net, {"kind": "numpy_softmax", "backend": "numpy", "history": history, "test_accuracy": test_acc})
    return net


def test_rank_uses_the_last_epoch_then_the_loss_never_the_test_set(store_root):
    _save("a", [0.99, 0.9968], [0.02, 0.0150], test_acc=0.9990)
    _save("b", [0.9980, 0.9968], [0.02, 0.0147], test_acc=0.9900)  # best epoch earlier does not count
    _save("c", [0.9960], [0.0100], test_acc=0.9999)
    assert [r["name"] for r in selection.rank(["a", "b", "c"])] == ["b", "a", "c"]


def test_promote_copies_the_winner_and_records_the_choice(store_root):
    net = _save("winner", [0.995], [0.02], test_acc=0.97)
    _save("loser", [0.990], [0.01], test_acc=0.99)
    result = selection.promote(["winner", "loser"], "default")
    assert result["chosen"] == "winner"
    card = store.read_card("default")
    assert card["name"] == "default" and card["promoted_from"] == "winner" and card["test_accuracy"] == 0.97
    assert [c["name"] for c in card["selection"]["candidates"]] == ["winner", "loser"]
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    assert np.allclose(loading.load("default").predict_proba(x), net.predict_proba(x))
    assert store.read_card("winner")["name"] == "winner"  # the source is untouched


def test_promote_replaces_an_existing_target_atomically(store_root):
    _save("default", [0.5], [1.0], test_acc=0.5)
    _save("new", [0.99], [0.02], test_acc=0.99)
    selection.promote(["new"], "default")
    assert store.read_card("default")["promoted_from"] == "new"
    assert not list(store_root.glob(".tmp-*")) and not list(store_root.glob(".trash-*"))


def test_candidates_without_validation_or_bad_targets_are_refused(store_root):
    _save("ok", [0.99], [0.02], test_acc=0.99)
    store.save("noval", NumpyNet((784, 10)), {"backend": "numpy", "history": {"accuracy": [0.9]}})
    with pytest.raises(store.StoreError, match="no validation history"):
        selection.rank(["ok", "noval"])
    with pytest.raises(store.ModelNotFound):
        selection.rank(["ok", "ghost"])
    with pytest.raises(store.StoreError, match="both a candidate and the destination"):
        selection.promote(["ok"], "ok")
    with pytest.raises(store.InvalidName):
        selection.promote(["ok"], "../evil")
    with pytest.raises(store.StoreError, match="onto itself"):
        store.copy("ok", "ok")


def test_cli_promote(store_root, capsys):
    _save("m1", [0.98], [0.05], test_acc=0.97)
    _save("m2", [0.99], [0.04], test_acc=0.98)
    assert cli.main(["promote", "m1", "m2", "--to", "shipped", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chosen"] == "m2" and out["target"] == "shipped" and out["test_accuracy"] == 0.98
    assert cli.main(["promote", "m1", "ghost"]) == 2
    assert "no model named 'ghost'" in capsys.readouterr().err


def test_a_single_candidate_without_validation_is_promoted_as_unselected(store_root, capsys):
    store.save("full", NumpyNet((784, 10), seed=2), {"backend": "numpy", "history": {"accuracy": [0.9]},
                                                      "test_accuracy": 0.91})
    card = selection.promote(["full"], "default")["card"]
    assert card["promoted_from"] == "full" and card["selection"]["candidates"] == [{"name": "full"}]
    assert card["selection"]["rule"] == selection.SINGLE and "nothing was selected" in selection.SINGLE
    _save("one", [0.99], [0.02], test_acc=0.99)
    scored = selection.promote(["one", "one"], "shipped")["card"]["selection"]
    assert scored["rule"] == selection.SINGLE and scored["candidates"][0]["val_accuracy"] == 0.99
    assert cli.main(["promote", "full", "--to", "again"]) == 0
    out = capsys.readouterr().out
    assert f"rule: {selection.SINGLE}" in out and "-> full" in out and "val_accuracy" not in out
