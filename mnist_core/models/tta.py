"""Test-time augmentation: a model's probabilities averaged over one-pixel shifts of each image.

The `best` models trained on random shifts, so a digit moved by a pixel is
one they have seen; averaging over the image and its four neighbours smooths
a reading that hangs on one pixel's placement. It costs five predictions per
image (made in one batch): `bench/inference.py --tta` reports both sides, and
`evaluate --tta` what it does to accuracy. Not the pages' reading: an option.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # (rows, columns): down, up, right, left


def shift(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images (N, H, W, C) moved by dy rows and dx columns; what enters is background (0), never wrapped ink."""
    out = np.zeros_like(x)
    h, w = x.shape[1:3]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@dataclass
class ShiftAveraged:
    """A loaded model (or ensemble) read with test-time augmentation; the same interface as the model."""

    model: object
    shifts: tuple = SHIFTS

    def __post_init__(self):
        self.name = f"{self.model.name} + TTA"
        self.card = {**self.model.card, "tta": {"shifts": [list(s) for s in self.shifts]}}
        self.backend = self.model.backend

    @property
    def net(self):
        return self.model.net

    @property
    def class_names(self) -> list[str]:
        return self.model.class_names

    @property
    def task(self) -> str:
        return self.model.task

    def count_params(self) -> int:
        return self.model.count_params()

    def predict_proba(self, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)
        out = np.zeros((len(x), len(self.class_names)), np.float32)
        step = max(1, batch_size // len(self.shifts))
        for i in range(0, len(x), step):  # every shift of a chunk in one call: one dispatch for a single image
            chunk = x[i:i + step]
            stacked = np.concatenate([shift(chunk, dy, dx) for dy, dx in self.shifts])
            probs = self.model.predict_proba(stacked, batch_size=len(stacked))
            out[i:i + step] = probs.reshape(len(self.shifts), len(chunk), -1).mean(axis=0)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)
