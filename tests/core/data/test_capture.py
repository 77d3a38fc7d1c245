"""Scan-styled MNIST: what the re-capture does to a digit, and that the product's preprocessing reads it back."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.data import capture
from mnist_core.handwriting import preprocess


def _one(height=20, width=4) -> np.ndarray:
    """An MNIST-like upright 1: a bar in a 28x28 field, white on black."""
    d = np.zeros((28, 28), np.float32)
    d[4:4 + height, 12:12 + width] = 1.0
    return d


def test_a_scan_is_a_small_cell_dark_on_white_at_one_of_the_scanned_resolutions():
    rng = np.random.default_rng(0)
    sides = set()
    for _ in range(60):
        im = capture.scan(_one(), rng)
        assert im.dtype == np.uint8 and im.shape[0] == im.shape[1]
        sides.add(im.shape[0])
    assert sides == set(capture.CELLS)


def test_the_box_filling_stretch_widens_a_thin_one_to_a_box_aspect():
    """Measured on optdigits: every class is 0.60-0.69 as wide as tall; MNIST's 1 is a thin bar."""
    ratios = []
    for seed in range(80):
        rng = np.random.default_rng(seed)
        im = capture.scan(_one(), rng)
        ink = (im < 128) if im[0, 0] > 128 else (im > 128)  # polarity of this draw
        ys, xs = np.nonzero(ink)
        if len(ys) and im.shape[0] == 32:
            ratios.append((xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1))
    ratios = np.array(ratios)
    assert (ratios > 0.45).mean() > 0.5  # most are stretched into the box
    assert (ratios < 0.3).any()  # some keep the digit's own aspect


def test_the_product_preprocessing_reads_back_every_scan_as_one_digit(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_CAPTURE_CACHE", str(tmp_path))
    rng = np.random.default_rng(1)
    x = np.stack([_one(), _one(16, 6)] * 10)[..., None]
    y = np.array([1, 1] * 10)
    out_x, out_y = capture.styled(x, y, 24, seed=3, workers=1)
    assert out_x.shape[1:] == (28, 28, 1) and len(out_x) == len(out_y) >= 22
    assert (out_y == 1).all()
    # fitted to MNIST's 20-px box: the long side of every digit is 19-21 px
    sides = [max(np.ptp(np.nonzero(xi[..., 0] > 0.05)[k]) + 1 for k in (0, 1)) for xi in out_x]
    assert min(sides) >= 19 and max(sides) <= 21
    # cached: the second call reads the file and returns the same arrays
    again_x, _ = capture.styled(x, y, 24, seed=3, workers=1)
    assert np.array_equal(again_x, out_x) and len(list(tmp_path.glob("scan-*.npz"))) == 1
    assert rng is not None


@pytest.mark.parametrize("side", [8, 16])
def test_a_tiny_scan_is_enlarged_before_analysis_and_its_box_maps_back(side):
    cell = np.full((side, side), 255, np.uint8)
    cell[1:side - 1, side // 2 - 1:side // 2 + 1] = 0  # a 1 that touches the cell's top and bottom
    a = preprocess.analyse(cell)
    assert a.reason is None and a.enlarged[0] >= 2
    assert a.steps[0][0].startswith("grey, enlarged")
    p = preprocess.render(a, a.kept)
    left, top, right, bottom = p.box
    assert 0 <= left and right <= side and 0 <= top <= 2 and side - 2 <= bottom <= side
    assert p.x.shape == (28, 28, 1) and p.x.max() > 0.9


def test_an_image_of_forty_pixels_or_more_is_not_enlarged():
    im = np.full((40, 40), 255, np.uint8)
    im[8:32, 18:22] = 0
    a = preprocess.analyse(im)
    assert a.enlarged == (1.0, 0.0) and a.steps[0][0] == "grey"
