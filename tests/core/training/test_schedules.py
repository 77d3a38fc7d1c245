"""Learning-rate schedules: the Keras form and the NumPy nets' form are one schedule."""

import pytest

from mnist_core.training.config import SCHEDULES, TrainConfig
from mnist_core.training.schedules import lr_at, lr_schedule


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("steps, epochs", [(10, 4), (7, 3), (33, 2), (1, 1)])
def test_keras_and_numpy_schedules_agree_at_every_step(schedule, steps, epochs):
    config = TrainConfig(lr=0.02, schedule=schedule, epochs=epochs)
    total = steps * epochs
    keras_lr = lr_schedule(config, total)
    for step in range(total + 1):  # every batch's step, and one past the end
        expected = float(keras_lr(step)) if callable(keras_lr) else keras_lr
        assert lr_at(config, step, total) == pytest.approx(expected, rel=1e-5, abs=1e-9), (schedule, step)


def test_schedule_shapes():
    config = TrainConfig(lr=0.1, schedule="onecycle", epochs=4)
    values = [lr_at(config, s, 100) for s in range(101)]
    assert max(values) == pytest.approx(0.1, rel=0.02) and values[0] < 0.01 and values[-1] < 1e-6
    assert lr_at(TrainConfig(lr=0.1), 50, 100) == 0.1
    cos = TrainConfig(lr=0.1, schedule="cosine")
    assert lr_at(cos, 0, 100) == pytest.approx(0.1) and lr_at(cos, 100, 100) == pytest.approx(0.001)
    exp = TrainConfig(lr=0.1, schedule="exponential", epochs=4)
    assert lr_at(exp, 50, 100) == pytest.approx(0.1 * 0.85 ** 2)
