"""The numbers users read: confusion cells, precision and recall, intervals.

Pinned with hand-computed values and with properties that hold for any labels,
so a transposed matrix, swapped precision/recall or a wrong interval fails here.
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_core.analysis import evaluate as ev

Y_TRUE = np.array([0, 0, 0, 1, 1, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 2])


def test_confusion_rows_are_true_labels_and_columns_predictions():
    cm = ev.confusion_matrix(Y_TRUE, Y_PRED, 3)
    assert cm.tolist() == [[1, 2, 0],
                           [0, 1, 1],
                           [0, 0, 1]]


def test_per_class_values_by_hand():
    rows = ev.per_class(ev.confusion_matrix(Y_TRUE, Y_PRED, 3))
    # class 0: 1 of 3 true zeros found (recall 1/3), the one 0 predicted is right (precision 1)
    assert rows[0]["precision"] == 1.0 and math.isclose(rows[0]["recall"], 1 / 3)
    # class 1: predicted 3 times, right once (precision 1/3); 1 of 2 true ones found (recall 1/2)
    assert math.isclose(rows[1]["precision"], 1 / 3) and rows[1]["recall"] == 0.5
    assert math.isclose(rows[1]["f1"], 2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    # class 2: predicted twice, right once; its only true example found
    assert rows[2]["precision"] == 0.5 and rows[2]["recall"] == 1.0
    assert [r["support"] for r in rows] == [3, 2, 1]
    assert [r["digit"] for r in rows] == [0, 1, 2]


def test_per_class_without_predictions_or_examples_is_zero_not_nan():
    rows = ev.per_class(np.array([[2, 0], [1, 0]]))
    assert rows[1] == {"digit": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


@st.composite
def label_pairs(draw):
    k = draw(st.integers(2, 10))
    n = draw(st.integers(1, 200))
    labels = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    return k, np.array(draw(labels)), np.array(draw(labels))


@settings(max_examples=200, deadline=None)
@given(label_pairs())
def test_confusion_margins_and_trace(pair):
    k, y, p = pair
    cm = ev.confusion_matrix(y, p, k)
    assert cm.sum(axis=1).tolist() == np.bincount(y, minlength=k).tolist()
    assert cm.sum(axis=0).tolist() == np.bincount(p, minlength=k).tolist()
    assert int(np.trace(cm)) == int((y == p).sum())


@settings(max_examples=200, deadline=None)
@given(label_pairs())
def test_precision_and_recall_follow_their_definitions(pair):
    k, y, p = pair
    for c, row in enumerate(ev.per_class(ev.confusion_matrix(y, p, k))):
        tp = int(((y == c) & (p == c)).sum())
        predicted, actual = int((p == c).sum()), int((y == c).sum())
        assert math.isclose(row["precision"], tp / predicted if predicted else 0.0)
        assert math.isclose(row["recall"], tp / actual if actual else 0.0)
        assert row["support"] == actual


def test_wilson_matches_published_values():
    # Wilson score intervals, z = 1.96 (Newcombe 1998, table I; and R's prop.test without continuity correction)
    lo, hi = ev.wilson_interval(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    lo, hi = ev.wilson_interval(15, 148)
    assert (round(lo, 4), round(hi, 4)) == (0.0624, 0.1605)
    lo, hi = ev.wilson_interval(0, 20)
    assert lo == 0.0 and round(hi, 4) == 0.1611
    lo, hi = ev.wilson_interval(9969, 10000)  # the shipped default's 31 errors, as the README reports it
    assert (round(lo, 4), round(hi, 4)) == (0.9956, 0.9978)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 100_000), st.data())
def test_wilson_contains_the_rate_and_narrows_with_n(n, data):
    correct = data.draw(st.integers(0, n))
    lo, hi = ev.wilson_interval(correct, n)
    assert 0.0 <= lo <= correct / n <= hi <= 1.0
    lo4, hi4 = ev.wilson_interval(4 * correct, 4 * n)
    assert hi4 - lo4 < hi - lo


def test_summarize_pins_accuracy_loss_and_mistake_order():
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    y = np.array([0, 0, 1, 1])
    report = ev.summarize(probs, y)
    assert report["accuracy"] == 0.5 and report["correct"] == 2 and report["n"] == 4
    assert math.isclose(report["loss"], -np.mean(np.log([0.9, 0.3, 0.4, 0.8])))
    assert report["confusion"] == [[1, 1], [1, 1]]
    # most confident mistake first: image 1 (0.7 for class 1) before image 2 (0.6 for class 0)
    assert [(m["index"], m["label"], m["prediction"]) for m in report["mistakes"]] == [(1, 0, 1), (2, 1, 0)]
    assert math.isclose(report["mistakes"][0]["confidence"], 0.7)
