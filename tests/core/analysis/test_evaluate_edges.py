"""Edges of the evaluation numbers that the hand-computed cases miss (found by `make mutation`):
label types, empty sets, probabilities at 0 and a hair above 1, the interval at the ends, limits."""

import math

import numpy as np
import pytest

from mnist_core.analysis import evaluate as ev


def test_confusion_counts_are_integers_even_for_float_labels():
    cm = ev.confusion_matrix(np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0, 0.0]), 2)
    assert cm.dtype.kind == "i" and cm.tolist() == [[0, 1], [1, 1]]
    assert ev.confusion_matrix([2, 2], [2, 0], 3).tolist() == [[0, 0, 0], [0, 0, 0], [1, 0, 1]]


def test_format_confusion_columns_are_one_wider_than_the_largest_count():
    assert format_lines([[12345, 0], [0, 7]]) == ["         0     1", "   0 12345     0", "   1     0     7"]


def format_lines(cm):
    return ev.format_confusion(np.array(cm)).splitlines()[1:]


def test_f1_when_precision_equals_recall():
    rows = ev.per_class(ev.confusion_matrix([0, 0, 1, 1], [0, 1, 1, 0], 2))
    assert [(r["precision"], r["recall"], r["f1"]) for r in rows] == [(0.5, 0.5, 0.5), (0.5, 0.5, 0.5)]


def test_wilson_without_examples_is_the_whole_range():
    assert ev.wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_for_one_example():
    lo, hi = ev.wilson_interval(0, 1)
    assert lo == 0.0 and math.isclose(hi, 0.7934567085261071)
    lo, hi = ev.wilson_interval(1, 1)
    assert math.isclose(lo, 0.20654329147389294) and hi == 1.0
    lo, hi = ev.wilson_interval(1, 10)  # one right in ten: the lower bound is above 0
    assert math.isclose(lo, 0.01787574951572113) and math.isclose(hi, 0.4041563854975721)


@pytest.mark.parametrize("n", range(1, 60))
def test_wilson_bounds_at_the_ends_are_exact(n):
    # computed, the bound at 0 right rounds to a hair above 0 for some n (11, 22, 27, 44, 47...)
    assert ev.wilson_interval(0, n)[0] == 0.0 and ev.wilson_interval(n, n)[1] == 1.0


def test_mistakes_limit_keeps_the_most_confident():
    probs = np.array([[0.2, 0.8], [0.4, 0.6], [0.1, 0.9], [0.9, 0.1]])
    y = np.array([0, 0, 0, 0])
    assert [m["index"] for m in ev.mistakes(probs, y)] == [2, 0, 1]
    assert [m["index"] for m in ev.mistakes(probs, y, limit=2)] == [2, 0]


def test_summarize_counts_right_answers_not_wrong_ones():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    report = ev.summarize(probs, np.array([0, 0, 0]))
    assert report["correct"] == 2 and report["accuracy"] == 2 / 3
    assert report["ci95"] == ev.wilson_interval(2, 3)
    assert report["per_class"] == ev.per_class(np.array([[2, 1], [0, 0]]))


def test_summarize_accepts_float_and_uint8_labels():
    probs = np.array([[0.9, 0.1], [0.3, 0.7]])
    for y in (np.array([0.0, 0.0]), np.array([0, 0], np.uint8), [0, 0]):
        report = ev.summarize(probs, y)
        assert report["correct"] == 1 and report["confusion"] == [[1, 1], [0, 0]]
        assert math.isclose(report["loss"], -(math.log(0.9) + math.log(0.3)) / 2)


def test_summarize_of_nothing_is_zero_not_nan():
    report = ev.summarize(np.zeros((0, 10)), np.zeros(0, int))
    assert report["accuracy"] == 0.0 and report["loss"] == 0.0 and report["n"] == 0
    assert report["ci95"] == (0.0, 1.0) and report["mistakes"] == []


def test_loss_clips_probabilities_to_0_and_1():
    # a true class given probability 0 costs -log(1e-12), not infinity
    report = ev.summarize(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0, 1]))
    assert math.isclose(report["loss"], -math.log(1e-12) / 2)
    # float32 softmax can round a certain class to a hair above 1: that is certainty, not a negative loss
    over = np.array([[np.nextafter(np.float32(1), np.float32(2)), 0.0]], np.float32)
    assert ev.summarize(over, np.array([0]))["loss"] == 0.0


def test_summarize_keeps_the_hundred_most_confident_mistakes_by_default():
    probs = np.tile([0.1, 0.9], (150, 1))
    probs[:, 1] -= np.arange(150) / 1000
    probs[:, 0] += np.arange(150) / 1000
    y = np.zeros(150, int)
    report = ev.summarize(probs, y)
    assert [m["index"] for m in report["mistakes"]] == list(range(100))
    assert [m["index"] for m in ev.summarize(probs, y, mistakes_limit=3)["mistakes"]] == [0, 1, 2]


def test_evaluate_model_summarizes_the_models_probabilities():
    class Model:
        def predict_proba(self, x):
            return np.array([[0.2, 0.8] if v.sum() else [0.7, 0.3] for v in x])

    x = np.array([[0.0], [1.0], [1.0]])
    y = np.array([0, 1, 0])
    assert ev.evaluate_model(Model(), x, y) == ev.summarize(Model().predict_proba(x), y)
    report = ev.evaluate_model(Model(), x, y, mistakes_limit=0)
    assert report["correct"] == 2 and report["mistakes"] == []
