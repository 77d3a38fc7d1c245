"""Accuracy, loss, confusion matrix, per-class metrics and the worst mistakes."""

from __future__ import annotations

import math

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Rows are true labels, columns predictions."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm



def most_confused(cm) -> tuple[int, int] | None:
    """(true, predicted) of the off-diagonal cell with the most images; None when there is no mistake."""
    cm = np.asarray(cm)
    off = cm - np.diag(np.diag(cm))
    if not off.any():
        return None
    true, predicted = divmod(int(np.argmax(off)), len(cm))
    return true, predicted


def format_confusion(cm, columns=None) -> str:
    """A confusion matrix as plain text: a title line, then a header and one row per true digit.

    columns: the column labels when they are not 0..k-1 (a batch's last column: "not a digit")."""
    cm = np.asarray(cm)
    labels = [str(c) for c in columns] if columns is not None else [str(k) for k in range(cm.shape[1] if cm.ndim == 2 else 0)]
    width = max([4, len(str(int(cm.max(initial=0)))) + 1] + [len(c) + 1 for c in labels])
    lines = ["confusion matrix (rows: true digit, columns: predicted)",
             "    " + "".join(f"{c:>{width}}" for c in labels)]
    lines += [f"{k:>4}" + "".join(f"{int(v):>{width}}" for v in row) for k, row in enumerate(cm)]
    return "\n".join(lines)

def per_class(cm: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support per true class (row). A matrix with one column more than rows
    (a batch of photos: its last column counts the images refused as "not a digit") also gives each
    class's refused count; a refusal counts against recall, never for precision."""
    cm = np.asarray(cm)
    refusals = cm.ndim == 2 and cm.shape[1] == cm.shape[0] + 1
    rows = []
    for k in range(len(cm)):
        tp, predicted, actual = cm[k, k], cm[:, k].sum(), cm[k, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"digit": k, "precision": float(precision), "recall": float(recall),
                     "f1": float(f1), "support": int(actual), **({"refused": int(cm[k, -1])} if refusals else {})})
    return rows


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of an accuracy (Wilson score; honest near 100%)."""
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At 0 and n the bounds are exactly 0 and 1; computed, they can round to just inside the rate.
    lo = 0.0 if correct == 0 else max(0.0, centre - half)
    hi = 1.0 if correct == n else min(1.0, centre + half)
    return (lo, hi)


def mistakes(probs: np.ndarray, y: np.ndarray, limit: int | None = None) -> list[dict]:
    """Wrong predictions, most confident first."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-probs[wrong, pred[wrong]])]
    if limit is not None:
        order = order[:limit]
    return [{"index": int(i), "label": int(y[i]), "prediction": int(pred[i]),
             "confidence": float(probs[i, pred[i]])} for i in order]


def summarize(probs: np.ndarray, y: np.ndarray, mistakes_limit: int = 100) -> dict:
    """Everything a model card or report needs from probabilities and labels."""
    y = np.asarray(y, dtype=np.int64)
    pred = probs.argmax(axis=1)
    correct = int((pred == y).sum())
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)))) if len(y) else 0.0
    cm = confusion_matrix(y, pred, probs.shape[1])
    return {"accuracy": correct / len(y) if len(y) else 0.0, "loss": loss, "n": int(len(y)), "correct": correct,
            "ci95": wilson_interval(correct, len(y)), "confusion": cm.tolist(), "per_class": per_class(cm),
            "mistakes": mistakes(probs, y, mistakes_limit)}


def evaluate_model(model, x: np.ndarray, y: np.ndarray, mistakes_limit: int = 100) -> dict:
    """summarize() for a LoadedModel (anything with predict_proba) on arrays."""
    return summarize(model.predict_proba(x), y, mistakes_limit)


def per_class_table(rows: list[dict], names=None, noun: str = "digit") -> list[dict]:
    """per_class() rows for a table: a shapes model's classes by name under `noun`; digits stay as they are."""
    if names is None or [str(n) for n in names] == [str(k) for k in range(len(rows))]:
        return rows
    return [{noun: names[r["digit"]], **{k: v for k, v in r.items() if k != "digit"}} for r in rows]
