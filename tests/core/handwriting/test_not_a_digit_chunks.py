"""The detector's features do not depend on how images are grouped for the trunk (issue 27 §2 made the
groups smaller for speed): any grouping gives the same numbers to the last bit."""

import numpy as np
import pytest

from mnist_core.handwriting import not_a_digit


@pytest.mark.skipif(not not_a_digit.available(), reason="the detector is not shipped")
def test_features_are_the_same_in_any_grouping(monkeypatch):
    rng = np.random.default_rng(0)
    x = (rng.random((21, 28, 28, 1)) ** 4).astype(np.float32)
    alone = np.concatenate([not_a_digit._features(x[i:i + 1]) for i in range(len(x))])
    for chunk in (1, 8, 256):
        monkeypatch.setattr(not_a_digit, "CHUNK", chunk)
        assert np.array_equal(not_a_digit._features(x), alone), chunk


def matmul_forward(layers: list, x: np.ndarray) -> np.ndarray:
    """The trunk as it was before issue 27: a matrix product for every kernel offset, one input channel too."""
    for w, b, stride, same in layers:
        k = w.shape[0]
        if same:
            out = -(-x.shape[1] // stride)
            total = max((out - 1) * stride + k - x.shape[1], 0)
            x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2), (0, 0)))
        h, wd = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
        out = np.zeros((len(x), h, wd, w.shape[3]), np.float32)
        for dy in range(k):
            for dx in range(k):
                out += x[:, dy:dy + stride * h:stride, dx:dx + stride * wd:stride] @ w[dy, dx]
        x = np.maximum(out + b, 0)
    return x.reshape(len(x), -1)


@pytest.mark.skipif(not not_a_digit.available(), reason="the detector is not shipped")
def test_the_trunk_gives_what_it_gave_before_it_was_made_faster():
    with np.load(not_a_digit.TRUNK_FILE) as z:
        layers = [(z[f"w{i}"], z[f"b{i}"], int(z["strides"][i]), bool(z["same"][i])) for i in range(len(z["strides"]))]
    rng = np.random.default_rng(1)
    x = np.concatenate([(rng.random((12, 28, 28, 1)) ** 3), rng.random((4, 28, 28, 1)) > 0.8]).astype(np.float32)
    assert np.array_equal(not_a_digit._forward(layers, x), matmul_forward(layers, x))
