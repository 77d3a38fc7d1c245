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
