"""'Not a digit' on real handwriting: thick scanned 1s are digits, dots are not, and the shipped detector's
calibration holds on people it never saw."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.data import mix, real
from mnist_core.handwriting import not_a_digit as nad

needs_real = pytest.mark.skipif(not real.available(), reason="../shared/data/real is not beside the repository")


def _bar(width: int) -> np.ndarray:
    """A scanned form's 1 after preprocessing: a solid upright bar 20 px tall."""
    x = np.zeros((1, 28, 28, 1), np.float32)
    x[0, 4:24, 14 - width // 2:14 - width // 2 + width] = 1.0
    return x


def _disk(r: float = 9.5) -> np.ndarray:
    yy, xx = np.mgrid[:28, :28]
    return (((yy - 13.5) ** 2 + (xx - 13.5) ** 2) <= r * r).astype(np.float32)[None, ..., None]


@pytest.mark.parametrize("width", [6, 8, 10])
def test_a_thick_upright_bar_is_not_called_a_blob(width):
    """optdigits' 1s are 0.42-0.60 as elongated as a disk; the old rule (above 0.35) refused them as dots."""
    g = nad.geometry(_bar(width))
    assert 0.25 < g[0, 8] <= 0.6
    assert nad.rules(g) == [None]


def test_a_filled_disk_is_still_a_dot_or_blob():
    assert nad.rules(nad.geometry(_disk())) == [f"{nad.REASON} (a dot or blob, not a pen stroke)"]


@needs_real
def test_the_shipped_detector_keeps_real_digits_of_people_it_never_saw():
    """UJI writers held out of every training (the model's and the detector's), every fifth rendering."""
    src = real.uji()
    _, held = mix.uji_split(src)
    x, _ = mix.prepared(src.subset(held[::5]))
    refused = np.mean([r is not None for r in nad.check(x)])
    assert refused <= 0.02, f"{refused:.1%} of real held-out digits refused"


@needs_real
def test_the_shipped_detector_refuses_real_drawings_that_are_not_digits():
    src = real.hds()
    _, held = mix.hds_split(src)
    x, labels = mix.prepared(src.subset(held[::4]))
    refused = np.array([r is not None for r in nad.check(x)])
    assert refused.mean() >= 0.75, f"only {refused.mean():.1%} of held-out HDS drawings refused"
    assert refused[labels != "ellipse"].mean() >= 0.85
