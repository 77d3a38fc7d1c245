"""Dataset summaries for the Data page: samples per digit, class balance, mean images."""

from __future__ import annotations

import numpy as np


def class_counts(y: np.ndarray, n_classes: int = 10) -> np.ndarray:
    return np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)[:n_classes]


def mean_images(x: np.ndarray, y: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """(n_classes, 28, 28) float mean of each digit's images, on x's own scale."""
    x = np.asarray(x).reshape(len(x), 28, 28)
    y = np.asarray(y)
    return np.stack([x[y == k].mean(axis=0) if (y == k).any() else np.zeros((28, 28)) for k in range(n_classes)])


def samples_per_digit(y: np.ndarray, per_digit: int, seed: int = 0, n_classes: int = 10) -> np.ndarray:
    """(n_classes, per_digit) indices of random images of each digit (-1 where a class runs short)."""
    rng = np.random.default_rng(seed)
    out = np.full((n_classes, per_digit), -1, dtype=np.int64)
    for k in range(n_classes):
        idx = np.flatnonzero(np.asarray(y) == k)
        pick = rng.choice(idx, size=min(per_digit, len(idx)), replace=False) if len(idx) else idx
        out[k, :len(pick)] = pick
    return out
