"""Every saved model's reading of one drawing (the Draw page's comparison table)."""

import numpy as np

from mnist_core import tasks
from mnist_core.handwriting.compare import every_model_reads
from mnist_core.models.store import StoreError


class Fixed:
    task = tasks.DIGITS_TASK

    def __init__(self, digit: int, confidence: float):
        self.digit, self.confidence = digit, confidence

    def predict_proba(self, x):
        p = np.full((len(x), 10), (1 - self.confidence) / 9)
        p[:, self.digit] = self.confidence
        return p


def test_rows_best_model_first_with_problems_reported():
    models = {"a": Fixed(3, 0.9), "b": Fixed(8, 0.6)}

    def load(name):
        if name not in models:
            raise StoreError(f"model '{name}' could not be loaded")
        return models[name]

    cards = [{"name": "b", "test_accuracy": 0.90}, {"name": "a", "test_accuracy": 0.99},
             {"name": "broken", "test_accuracy": 0.95}, {"name": "c", "test_accuracy": 0.5}]
    rows = every_model_reads(np.zeros((2, 28, 28, 1), np.float32), cards, load, limit=3)
    assert [r["model"] for r in rows] == ["a", "broken", "b"]  # the limit drops the worst
    assert rows[0] == {"model": "a", "reads": "33", "confidence": 0.9, "test_accuracy": 0.99}
    assert rows[1]["reads"] is None and "could not be loaded" in rows[1]["problem"]
    assert rows[2]["reads"] == "88" and abs(rows[2]["confidence"] - 0.6) < 1e-9
