"""Selection details the ranking tests miss (found by `make mutation`): an explicit store root,
missing losses, exact messages and the card's record of the choice."""

import math

import numpy as np
import pytest

from mnist_core import access
from mnist_core.models import selection, store
from mnist_core.models.numpy_nets import NumpyNet


def _save(name, val_acc, val_loss, root, **card):
    history = {"val_accuracy": val_acc, "val_loss": val_loss}
    store.save(name, NumpyNet((784, 10)), {"backend": "numpy", "history": history, **card}, root=root)


def test_validation_scores_exactly():
    card = {"name": "m", "history": {"val_accuracy": [0.5, 0.75], "val_loss": [1.0, 0.25]}}
    assert selection.validation_scores(card) == {"name": "m", "val_accuracy": 0.75, "val_loss": 0.25, "epochs": 2}


@pytest.mark.parametrize("loss", [[], None, [0.3, None]])
def test_a_missing_last_loss_ranks_last_among_equals(loss):
    card = {"name": "m", "history": {"val_accuracy": [0.9, 0.9], "val_loss": loss}}
    assert selection.validation_scores(card)["val_loss"] == math.inf


@pytest.mark.parametrize("history", [None, {}, {"val_accuracy": []}, {"val_accuracy": [0.9, None]}])
def test_no_validation_history_is_named(history):
    with pytest.raises(store.StoreError) as caught:
        selection.validation_scores({"name": "ens", "history": history})
    assert str(caught.value) == ("model 'ens' has no validation history "
                                 "(ensembles and runs without a validation split cannot be ranked)")


def test_rank_needs_a_candidate():
    with pytest.raises(store.StoreError) as caught:
        selection.rank([])
    assert str(caught.value) == "name at least one candidate model"


def test_rank_and_promote_use_the_given_root_not_the_environment(tmp_path, store_root):
    root = tmp_path / "elsewhere"
    _save("a", [0.9], [0.5], root, trained_as="cnn-run-7")
    _save("b", [0.9], [0.4], root)
    rows = selection.rank(["a", "b", "a"], root)
    assert [(r["name"], r["val_loss"]) for r in rows] == [("b", 0.4), ("a", 0.5)]  # ties: lower loss first
    result = selection.promote(["a"], "shipped", root)
    assert result["chosen"] == "a" and result["card"]["name"] == "shipped"
    card = store.read_card("shipped", root)
    assert card["trained_as"] == "cnn-run-7" and card["promoted_from"] == "a"
    assert card["selection"]["rule"] == selection.SINGLE and card["selection"]["candidates"] == rows[1:]
    assert store.list_names() == []  # nothing in the environment's store


def test_promote_records_the_candidate_as_trained_as_when_the_card_has_none(tmp_path):
    _save("m", [0.9], [0.5], tmp_path)
    assert selection.promote(["m"], "default", tmp_path)["card"]["trained_as"] == "m"


def test_promote_refuses_visitors_naming_the_target(tmp_path):
    _save("m", [0.9], [0.5], tmp_path)
    with access.acting_as(access.VISITOR), pytest.raises(access.AccessDenied) as caught:
        selection.promote(["m"], "default", tmp_path)
    assert str(caught.value).startswith("cannot promote a model to 'default': ")
    assert store.list_names(tmp_path) == ["m"]


def test_promote_defaults_to_default_and_stamps_the_choice(tmp_path):
    _save("m", [0.9], [0.5], tmp_path)
    card = selection.promote(["m"], root=tmp_path)["card"]
    assert card["name"] == "default" and store.list_names(tmp_path) == ["default", "m"]
    assert isinstance(card["selection"]["at"], str) and card["selection"]["at"][:2] == "20"


def test_rank_names_rows_by_folder_even_if_a_card_says_otherwise(tmp_path):
    import json

    _save("m", [0.9], [0.5], tmp_path)
    card_file = next(p for p in (tmp_path / "m").iterdir() if p.name.endswith(".json"))
    card = json.loads(card_file.read_text())
    card_file.write_text(json.dumps({**card, "name": "stale"}))
    assert [r["name"] for r in selection.rank(["m"], tmp_path)] == ["m"]
