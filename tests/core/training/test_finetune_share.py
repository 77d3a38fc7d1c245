"""How often adaptation images are repeated so that they make up a share of every fine-tuning epoch."""

from __future__ import annotations

import pytest

from mnist_core.training.finetune import FinetuneConfig, FinetuneError, _repeats


@pytest.mark.parametrize("n_adapt, n_replay, share, expected", [
    (80, 4000, 0.0, 1),      # off: each image once, as before
    (80, 4000, 0.25, 17),    # 80 x 17 = 1360 of 5360 = 25.4%
    (80, 4000, 0.5, 50),     # 4000 of 8000
    (5000, 4000, 0.25, 1),   # already more than a quarter: never fewer than once
    (0, 4000, 0.25, 1),
])
def test_repeats_reach_the_share(n_adapt, n_replay, share, expected):
    r = _repeats(n_adapt, n_replay, share)
    assert r == expected
    if share and n_adapt and expected > 1:
        assert n_adapt * r / (n_adapt * r + n_replay) >= share > n_adapt * (r - 1) / (n_adapt * (r - 1) + n_replay)


def test_share_must_be_a_fraction():
    with pytest.raises(FinetuneError, match=r"adapt_share must be a fraction in \[0, 1\)"):
        FinetuneConfig(base="default", images="x", adapt_share=1.0).validate()
