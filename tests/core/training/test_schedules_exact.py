"""lr_at by hand, without Keras (found by `make mutation`): phase lengths, the warm-up line,
the cosine's ends and its floor, the exponential's epochs, and the constant."""

import math

import pytest

from mnist_core.training.config import TrainConfig
from mnist_core.training.schedules import lr_at


def test_onecycle_warms_up_over_30_percent_then_cosines_to_zero():
    config = TrainConfig(lr=1.0, schedule="onecycle", epochs=2)
    assert lr_at(config, 0, 100) == 1 / 25
    assert lr_at(config, 15, 100) == pytest.approx(1 / 25 + (1 - 1 / 25) * 15 / 30)
    assert lr_at(config, 29, 100) < 1.0 and lr_at(config, 30, 100) == 1.0
    assert lr_at(config, 30 + 35, 100) == pytest.approx(0.5)  # halfway through the 70-step cosine
    assert lr_at(config, 100, 100) == pytest.approx(0.0, abs=1e-12)
    assert lr_at(config, 150, 100) == pytest.approx(0.0, abs=1e-12)  # holds after the end


def test_onecycle_on_tiny_runs_still_has_one_warm_up_step():
    config = TrainConfig(lr=1.0, schedule="onecycle", epochs=1)
    assert lr_at(config, 0, 3) == 1 / 25 and lr_at(config, 1, 3) == 1.0  # int(0.9) = 0 -> 1 step
    assert lr_at(config, 2, 3) == pytest.approx(0.5)
    assert lr_at(config, 0, 1) == 1 / 25 and lr_at(config, 1, 1) == 1.0  # nothing left to decay over


def test_cosine_ends_at_one_percent():
    config = TrainConfig(lr=2.0, schedule="cosine")
    assert lr_at(config, 0, 10) == 2.0
    assert lr_at(config, 5, 10) == pytest.approx(2.0 * (0.01 + 0.99 * 0.5))
    assert lr_at(config, 10, 10) == pytest.approx(0.02) and lr_at(config, 20, 10) == pytest.approx(0.02)
    assert lr_at(config, 0, 0) == 2.0


def test_exponential_is_085_per_epoch_in_whole_steps():
    config = TrainConfig(lr=1.0, schedule="exponential", epochs=3)
    assert lr_at(config, 0, 31) == 1.0
    assert lr_at(config, 10, 31) == pytest.approx(0.85)  # 31 // 3 = 10 steps an epoch
    assert lr_at(config, 5, 31) == pytest.approx(math.sqrt(0.85))
    assert lr_at(config, 1, 2) == pytest.approx(0.85)  # fewer steps than epochs: one step an epoch


def test_constant_ignores_the_step():
    assert [lr_at(TrainConfig(lr=0.3), s, 10) for s in (0, 5, 10)] == [0.3, 0.3, 0.3]
