"""Promote never ruins the default in one step (issue 23 item 1): it compares the candidate with the model
it replaces, refuses a worse one unless forced, and keeps the replaced model restorable. No TensorFlow."""

import json

import pytest

from mnist_core import cli
from mnist_core.models import selection, store
from mnist_core.models.numpy_nets import NumpyNet


def _save(name: str, val_acc: float | None, test_acc: float, seed: int = 0, **card) -> None:
    history = {"accuracy": [0.9]} | ({"val_accuracy": [val_acc], "val_loss": [0.1]} if val_acc is not None else {})
    store.save(name, NumpyNet((784, 10), seed=seed),
               {"kind": "numpy_softmax", "backend": "numpy", "history": history, "test_accuracy": test_acc, **card})


def test_a_worse_candidate_is_refused_and_the_default_left_as_it_is(store_root):
    _save("default", 0.9971, 0.9971)
    _save("sweep-t00", 0.7059, 0.7012, seed=1)
    before = store.read_card("default")
    with pytest.raises(selection.WorseThanCurrent) as caught:
        selection.promote(["sweep-t00"], "default")
    message = str(caught.value)
    assert "validation accuracy 70.59% against 99.71%" in message and "-29.12 points" in message
    assert "--force" in message and "\n" not in message
    assert store.read_card("default") == before
    assert not store.exists("default-previous")


def test_the_comparison_shows_both_accuracies_and_their_differences(store_root):
    _save("default", 0.99, 0.985)
    _save("cand", 0.995, 0.99, seed=1)
    comparison = selection.plan(["cand"], "default")["comparison"]
    assert comparison.metric == "validation" and not comparison.worse
    assert comparison.val_difference == pytest.approx(0.005) and comparison.test_difference == pytest.approx(0.005)
    assert comparison.table() == [
        {"model": "cand (candidate)", "validation": "99.50%", "test": "99.00%"},
        {"model": "default (current)", "validation": "99.00%", "test": "98.50%"},
        {"model": "difference", "validation": "+0.50 points", "test": "+0.50 points"}]


def test_without_a_validation_split_the_test_accuracy_decides(store_root):
    _save("default", None, 0.9971)  # the shipped default is trained on all 60,000 images: no validation
    _save("better-val", 0.999, 0.99, seed=1)
    comparison = selection.plan(["better-val"], "default")["comparison"]
    assert comparison.metric == "test" and comparison.worse and comparison.val_difference is None
    with pytest.raises(selection.WorseThanCurrent, match="test accuracy 99.00% against 99.71%"):
        selection.promote(["better-val"], "default")


def test_force_promotes_keeps_the_replaced_default_and_restore_brings_it_back(store_root):
    _save("default", 0.9971, 0.9971)
    _save("weak", 0.70, 0.70, seed=1)
    result = selection.promote(["weak"], "default", force=True)
    assert result["previous"] == "default-previous"
    assert store.read_card("default")["promoted_from"] == "weak"
    kept = store.read_card("default-previous")
    assert kept["test_accuracy"] == 0.9971 and kept["kept"]["replaced_by"] == "weak"
    assert store.read_card("default")["selection"]["forced"] is True
    assert selection.restorable("default")["test_accuracy"] == 0.9971

    restored = selection.restore("default")
    assert restored["restored_from"] == "default-previous" and restored["replaced"] == "weak"
    assert restored["still_saved"] is True
    card = store.read_card("default")
    assert card["name"] == "default" and card["test_accuracy"] == 0.9971 and card["kept"] is None


def test_a_better_candidate_is_promoted_and_the_old_default_kept(store_root):
    _save("default", 0.98, 0.98)
    _save("good", 0.99, 0.99, seed=1)
    result = selection.promote(["good"], "default")
    assert result["previous"] == "default-previous" and not result["comparison"].worse
    assert store.read_card("default-previous")["test_accuracy"] == 0.98


def test_restore_without_a_kept_model_and_promoting_the_kept_one_are_explained(store_root):
    _save("default", 0.98, 0.98)
    with pytest.raises(store.ModelNotFound, match="no 'default-previous' to restore"):
        selection.restore("default")
    _save("good", 0.99, 0.99, seed=1)
    selection.promote(["good"], "default")
    with pytest.raises(store.StoreError, match="restore default"):
        selection.promote(["default-previous"], "default")


def test_a_model_of_another_task_never_replaces_a_shipped_one(store_root):
    _save("default", 0.98, 0.98)
    _save("shapes-cnn", 0.99, 0.99, seed=1, task="shapes")
    with pytest.raises(store.StoreError, match="reads shapes and 'default' reads digits"):
        selection.promote(["shapes-cnn"], "default", force=True)
    _save("digits-cnn", 0.99, 0.99, seed=2)
    with pytest.raises(store.StoreError, match="reads digits and 'shapes' reads shapes"):
        selection.plan(["digits-cnn"], "shapes")  # no shapes model saved yet: the shipped name's task decides


def test_cli_refuses_a_worse_candidate_with_status_2_and_force_and_restore(store_root, capsys):
    _save("default", 0.9971, 0.9971)
    _save("weak", 0.7059, 0.7012, seed=1)
    assert cli.main(["promote", "weak"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--force" in err[0]
    assert "weak (candidate)" in captured.out and "default (current)" in captured.out
    assert "-29.12 points" in captured.out and "-29.59 points" in captured.out
    assert store.read_card("default").get("promoted_from") is None

    assert cli.main(["promote", "weak", "--force"]) == 0
    out = capsys.readouterr().out
    assert "kept as 'default-previous'" in out and "python -m mnist_core restore" in out
    assert store.read_card("default")["promoted_from"] == "weak"

    assert cli.main(["restore", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["restored_from"] == "default-previous"
    assert store.read_card("default")["test_accuracy"] == 0.9971
    assert cli.main(["restore", "shapes"]) == 2
    assert capsys.readouterr().err.startswith("error: no 'shapes-previous' to restore")


def test_cli_promote_json_carries_the_comparison(store_root, capsys):
    _save("default", 0.98, 0.98)
    _save("good", 0.99, 0.985, seed=1)
    assert cli.main(["promote", "good", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["previous"] == "default-previous" and out["forced"] is False
    assert out["comparison"]["current"]["val_accuracy"] == 0.98
    assert out["comparison"]["val_difference"] == pytest.approx(0.01)
