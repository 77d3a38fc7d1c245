"""leaderboard and datastats: table rows, curves and dataset summaries."""

import math

import numpy as np

from mnist_core.data import stats

from mnist_core.analysis import leaderboard


def _card(name, acc, history=None, augment=False):
    return {"name": name, "kind": "cnn", "test_accuracy": acc, "test_loss": 0.1, "params": 10,
            "train_seconds": 1.0, "inference_ms": 0.5, "epochs_trained": 2, "train_size": 100,
            "created": "2026-11-23T08:15:00+0000", "config": {"augment": augment},
            "history": history or {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}}


def test_rows_best_first_and_broken_cards_last():
    rows = leaderboard.rows([_card("b", 0.9), {"name": "broken", "error": "corrupt card.json"},
                             _card("a", 0.95, augment=True)])
    assert [r["name"] for r in rows] == ["a", "b", "broken"]
    assert rows[0]["augment"] is True and rows[0]["created"] == "2026-11-23 08:15"
    assert rows[2]["error"] == "corrupt card.json" and rows[0]["error"] is None


def test_curves_pad_missing_validation():
    curves = leaderboard.curves(_card("a", 0.9))
    assert curves["epoch"] == [1.0, 2.0] and curves["loss"] == [1.0, 0.5]
    assert all(math.isnan(v) for v in curves["val_loss"])
    assert leaderboard.curves({"history": {}})["epoch"] == []


def test_datastats():
    y = np.array([0, 1, 1, 2, 2, 2])
    x = np.zeros((6, 28, 28), np.uint8)
    x[y == 2, 0, 0] = 90
    assert stats.class_counts(y).tolist() == [1, 2, 3, 0, 0, 0, 0, 0, 0, 0]
    means = stats.mean_images(x, y)
    assert means.shape == (10, 28, 28) and means[2, 0, 0] == 90 and means[5].sum() == 0
    picks = stats.samples_per_digit(y, 2, seed=0)
    assert picks.shape == (10, 2)
    assert set(picks[2]) <= {3, 4, 5} and picks[0].tolist()[1] == -1 and (picks[9] == -1).all()
    assert set(picks[1]) == {1, 2}


def test_top_keeps_the_shipped_model_below_the_cut():
    rows = [{"name": f"m{i}", "test_accuracy": 0.99 - i / 100} for i in range(5)] + [{"name": "default",
                                                                                      "test_accuracy": 0.7}]
    assert [r["name"] for r in leaderboard.top(rows, 3, keep=("default",))] == ["m0", "m1", "m2", "default"]
    assert [r["name"] for r in leaderboard.top(rows, 3)] == ["m0", "m1", "m2"]


def test_display_two_decimals_and_no_none():
    rows = [{"name": "a", "test_accuracy": 0.997, "epochs": 3.0}, {"name": "ens", "test_accuracy": 0.99714,
                                                                  "epochs": None},
            {"name": "nan", "test_accuracy": None, "epochs": float("nan")}]
    frame = leaderboard.display(rows, ("name", "test_accuracy", "epochs"))
    assert list(frame.columns) == ["name", "test_accuracy", "epochs"]
    assert frame["test_accuracy"].tolist()[:2] == [99.7, 99.71] and math.isnan(frame["test_accuracy"][2])
    assert frame["epochs"].tolist() == ["3", "—", "—"]


def test_origin_of_each_kind_of_saved_model():
    cases = {"default": {}, "shapes-previous": {}, "imp": {"imported": True}, "duo": {"backend": "ensemble"},
             "t3": {"sweep": {"id": "s", "number": 3}}, "ft": {"finetune": {"success": False}}, "plain": {"sweep": None}}
    assert {n: leaderboard.origin({"name": n, **c}) for n, c in cases.items()} == {
        "default": "shipped", "shapes-previous": "shipped", "imp": "imported", "duo": "ensemble",
        "t3": "sweep trial", "ft": "fine-tuned", "plain": "trained"}


def test_chosen_keeps_shipped_and_broken_rows_whatever_the_filter():
    rows = [{"name": "default", "origin": "shipped", "test_accuracy": 0.5},
            {"name": "t0", "origin": "sweep trial", "test_accuracy": 0.99},
            {"name": "weak", "origin": "trained", "test_accuracy": 0.9},
            {"name": "good", "origin": "trained", "test_accuracy": 0.99},
            {"name": "broken", "error": "corrupt card.json"}]
    names = [r["name"] for r in leaderboard.chosen(rows, ("trained",), 0.95)]
    assert names == ["default", "good", "broken"]
    assert [r["name"] for r in leaderboard.chosen(rows)] == [r["name"] for r in rows]
