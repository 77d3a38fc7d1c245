"""Data augmentation with Keras preprocessing layers, for training batches only."""

from __future__ import annotations

import numpy as np


def make_augmenter(config, seed: int | None = None):
    """A Keras Sequential of random rotation, shift and zoom (black fill, as MNIST)."""
    import keras
    from keras import layers

    seed = config.seed if seed is None else seed
    steps = []
    if config.rotation_deg > 0:
        steps.append(layers.RandomRotation(config.rotation_deg / 360.0, fill_mode="constant", seed=seed))
    if config.shift > 0:
        steps.append(layers.RandomTranslation(config.shift, config.shift, fill_mode="constant", seed=seed + 1))
    if config.zoom > 0:
        steps.append(layers.RandomZoom(config.zoom, config.zoom, fill_mode="constant", seed=seed + 2))
    return keras.Sequential(steps, name="augment")


def preview(images: np.ndarray, config, seed: int = 0) -> np.ndarray:
    """The augmentation applied once to float images (N, 28, 28, 1), as numpy."""
    augmenter = make_augmenter(config, seed)
    out = augmenter(np.asarray(images, np.float32), training=True)
    return np.clip(np.asarray(out), 0.0, 1.0)
