"""Learning-rate schedules: one definition, two forms.

Keras models get a keras.optimizers.schedules object (lr_schedule); the NumPy
nets call lr_at for each step. Both read the phase lengths from the same
helper, in whole steps, so they agree at every step (tests/core/training/
test_schedules.py checks it for every schedule).
"""

from __future__ import annotations

import math

from mnist_core.training.config import TrainConfig

WARMUP_FRACTION = 0.3  # onecycle: the first 30% of steps warm up...
WARMUP_START = 1 / 25  # ...from lr/25 to lr, then a cosine takes it to zero
COSINE_FLOOR = 0.01  # cosine: ends at 1% of lr
DECAY_PER_EPOCH = 0.85  # exponential: x0.85 per epoch


def _warmup_steps(total_steps: int) -> int:
    return max(1, int(WARMUP_FRACTION * total_steps))


def _steps_per_epoch(config: TrainConfig, total_steps: int) -> int:
    return max(1, total_steps // config.epochs)


def lr_schedule(config: TrainConfig, total_steps: int):
    """A Keras learning-rate schedule (or a float, for constant) for config.schedule."""
    import keras

    lr = float(config.lr)
    if config.schedule == "onecycle":
        warm = _warmup_steps(total_steps)
        return keras.optimizers.schedules.CosineDecay(lr * WARMUP_START, max(1, total_steps - warm), alpha=0.0,
                                                      warmup_target=lr, warmup_steps=warm)
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, max(1, total_steps), alpha=COSINE_FLOOR)
    if config.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(lr, _steps_per_epoch(config, total_steps),
                                                           DECAY_PER_EPOCH)
    return lr


def _cosine(done: int, steps: int, floor: float) -> float:
    """Keras' CosineDecay factor after `done` of `steps` steps (it holds at the end)."""
    frac = min(done, steps) / steps
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac))


def lr_at(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate at optimizer step `step` (0 for the first batch), as lr_schedule gives it."""
    lr = float(config.lr)
    if config.schedule == "onecycle":
        warm = _warmup_steps(total_steps)
        if step < warm:
            start = lr * WARMUP_START
            return start + (lr - start) * step / warm
        return lr * _cosine(step - warm, max(1, total_steps - warm), 0.0)
    if config.schedule == "cosine":
        return lr * _cosine(step, max(1, total_steps), COSINE_FLOOR)
    if config.schedule == "exponential":
        return lr * DECAY_PER_EPOCH ** (step / _steps_per_epoch(config, total_steps))
    return lr
