"""Per-task views of models: which model a task reads with, its test set, its results by class name."""

import json
import pickle

import numpy as np
import pytest

from mnist_core import tasks
from mnist_core.analysis import evaluate, leaderboard, predictions, testset
from mnist_core.data import shapes
from mnist_core.handwriting.compare import every_model_reads
from mnist_core.models import loading, store
from mnist_core.models.numpy_nets import NumpyNet

CARDS = [{"name": "default", "config": {"task": "digits"}}, {"name": "flat"},
         {"name": "shapes", "task": "shapes"}, {"name": "sh2", "config": {"task": "shapes"}},
         {"name": "duo", "kind": "ensemble", "members": ["sh2", "shapes"]},
         {"name": "badcard", "error": "corrupt card.json"}]


def test_tasks_by_name_reads_cards_old_and_new_and_ensembles_from_their_members():
    assert tasks.tasks_by_name(CARDS) == {"default": "digits", "flat": "digits", "shapes": "shapes",
                                          "sh2": "shapes", "duo": "shapes"}


@pytest.mark.parametrize("task, wanted, expected", [
    ("shapes", "sh2", "sh2"),  # the task's own choice
    ("shapes", "flat", "shapes"),  # a digits model is never a shapes task's model: the shipped one instead
    ("shapes", None, "shapes"),
    ("digits", "flat", "flat"),
    ("digits", "gone", "default"),
])
def test_choose_model_keeps_the_tasks_choice_else_the_shipped_model(task, wanted, expected):
    assert tasks.choose_model(task, tasks.tasks_by_name(CARDS), wanted) == expected


def test_choose_model_without_the_shipped_model_takes_the_first_of_the_task_or_none():
    of_task = {"b-shape": "shapes", "a-shape": "shapes", "m": "digits"}
    assert tasks.choose_model("shapes", of_task) == "a-shape"
    assert tasks.choose_model("digits", of_task) == "m"
    assert tasks.choose_model("shapes", {"m": "digits"}) is None
    assert tasks.get("shapes").noun == "shape" and tasks.get("digits").noun == "digit"


def test_a_task_is_its_name_with_what_it_means():
    shapes_task = tasks.get("shapes")
    assert shapes_task == "shapes" and json.dumps({"task": shapes_task}) == '{"task": "shapes"}'  # as cards hold it
    assert shapes_task.classes == shapes.CLASSES and shapes_task.named and shapes_task.shipped == "shapes"
    assert tasks.get("digits").classes == tuple("0123456789") and not tasks.get("digits").named
    assert pickle.loads(pickle.dumps(shapes_task)) is shapes_task and tasks.get(shapes_task) is shapes_task
    with pytest.raises(tasks.UnknownTask, match="unknown task 'letters'"):
        tasks.get("letters")
    with pytest.raises(AttributeError):
        shapes_task.noun = "thing"


def test_leaderboard_of_task_keeps_unreadable_models_in_every_list():
    rows = leaderboard.rows(CARDS)
    of_task = tasks.tasks_by_name(CARDS)
    assert {r["name"] for r in leaderboard.of_task(rows, of_task, "shapes")} == {"shapes", "sh2", "duo", "badcard"}
    assert {r["name"] for r in leaderboard.of_task(rows, of_task, "digits")} == {"default", "flat", "badcard"}


def test_by_class_names_a_shapes_cards_confusion_and_metrics():
    cm = np.eye(9, dtype=int) * 10
    cm[0, 8], cm[0, 0] = 2, 8
    results = leaderboard.by_class({"task": "shapes", "confusion": cm.tolist()})
    assert results["names"] == list(shapes.CLASSES) and results["noun"] == "shape"
    first = results["per_class"][0]
    assert first == {"shape": "ellipse", "precision": 1.0, "recall": 0.8, "f1": pytest.approx(8 / 9), "support": 10}
    assert results["per_class"][8]["precision"] == pytest.approx(10 / 12)
    digits = leaderboard.by_class({"confusion": np.eye(10, dtype=int).tolist()})
    assert [r["digit"] for r in digits["per_class"]] == list(range(10))  # digits keep their numbers
    assert leaderboard.by_class({"kind": "ensemble"}) is None
    assert leaderboard.by_class({"confusion": [[1, 2], [3]]}) is None


def test_per_class_table_renames_only_named_classes():
    rows = evaluate.per_class(np.array([[3, 1], [0, 2]]))
    assert evaluate.per_class_table(rows) is rows
    assert evaluate.per_class_table(rows, ["0", "1"]) is rows
    assert [r["shape"] for r in evaluate.per_class_table(rows, ["ellipse", "line"], "shape")] == ["ellipse", "line"]


def test_a_shapes_model_is_scored_on_the_generated_test_split_not_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_SIZES", "test=2")
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_CACHE", str(tmp_path))
    held = testset.load("shapes")
    assert held.x.shape == (18, 28, 28, 1) and list(held.y) == [k for _ in range(2) for k in range(9)]
    x, y = shapes.generate(2, shapes.SPLIT_SEEDS["test"])
    assert np.array_equal(held.x, np.round(x * 255) / 255) and held.sha256 == shapes.checksum(x, y)
    assert held.class_names == shapes.CLASSES and held.noun == "shape"
    assert held.description == "generated test drawings"
    with pytest.raises(ValueError, match="unknown task 'letters'"):
        testset.load("letters")


class NineWay:
    """A stand-in model with nine outputs and class names."""

    def __init__(self, k: int, names=None):
        self.k, self.class_names = k, names
        self.task = tasks.get("shapes" if names else "digits")

    def predict_proba(self, x):
        p = np.full((len(x), 9), 0.01)
        p[:, self.k] = 0.92
        return p


def test_cached_test_predictions_keep_a_shapes_models_nine_classes(store_root):
    store.save("sh", NumpyNet((784, 8, 9), seed=0), {"backend": "numpy", "task": "shapes"})
    x = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    calls = []

    def load():
        calls.append(1)
        return loading.load("sh")

    first = predictions.test_probs("sh", x, "sha", load=load)
    second = predictions.test_probs("sh", x, "sha", load=load)
    assert first.shape == (5, 9) and np.array_equal(first, second) and len(calls) == 1  # kept, not recomputed


def test_every_model_reads_compares_the_models_of_one_task_by_class_name():
    models = {"default": NineWay(0), "shapes": NineWay(2, list(shapes.CLASSES))}
    cards = [{"name": "default", "test_accuracy": 0.9}, {"name": "shapes", "task": "shapes", "test_accuracy": 0.99}]
    rows = every_model_reads(np.zeros((1, 28, 28, 1), np.float32), cards, models.__getitem__, task="shapes")
    assert rows == [{"model": "shapes", "reads": "triangle", "confidence": 0.92, "test_accuracy": 0.99}]
    assert [r["model"] for r in every_model_reads(np.zeros((1, 28, 28, 1)), cards, models.__getitem__)] == ["default"]
