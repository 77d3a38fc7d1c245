"""Model builders by name, each with a one-line description and a recipe.

A recipe is the set of TrainConfig values the model trains well with; the
user's explicit choices override it. Keras builders import keras lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from mnist_core.tasks import n_classes
from mnist_core.models import whitening


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    backend: str  # "keras" or "numpy"
    recipe: dict = field(default_factory=dict)
    options: tuple[str, ...] = ()  # TrainConfig knobs that change this model


def _dropout(config, default: float) -> float:
    return default if config.dropout is None else float(config.dropout)


def _dense_block(x, units: int, config, dropout: float):
    from keras import layers

    x = layers.Dense(units, use_bias=not config.batch_norm)(x)
    if config.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.Dropout(dropout)(x) if dropout > 0 else x


def _conv_block(x, filters: int, kernel: int, config, padding: str = "valid"):
    from keras import layers

    x = layers.Conv2D(filters, kernel, padding=padding, use_bias=not config.batch_norm)(x)
    if config.batch_norm:
        x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_softmax(config):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Flatten()(inputs)
    return keras.Model(inputs, layers.Dense(n_classes(config), activation="softmax")(x), name="softmax")


def build_mlp(config):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Flatten()(inputs)
    for units in config.extra.get("hidden", (256, 128, 64)):
        x = _dense_block(x, int(units), config, _dropout(config, 0.0))
    return keras.Model(inputs, layers.Dense(n_classes(config), activation="softmax")(x), name="mlp")


def build_lenet5(config):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    # 'same' on the first conv stands in for LeNet's 32x32 zero-padded input.
    x = _conv_block(inputs, 6, 5, config, padding="same")
    x = layers.MaxPooling2D()(x)
    x = _conv_block(x, 16, 5, config)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = _dense_block(x, 120, config, _dropout(config, 0.0))
    x = _dense_block(x, 84, config, _dropout(config, 0.0))
    return keras.Model(inputs, layers.Dense(n_classes(config), activation="softmax")(x), name="lenet5")


def build_cnn(config):
    """The seed project's Keras CNN, layer for layer (150,858 parameters)."""
    import keras
    from keras import layers

    conv_drop, dense_drop = (0.25, 0.5) if config.dropout is None else (config.dropout, config.dropout)
    inputs = keras.Input((28, 28, 1))
    x = _conv_block(inputs, 32, 4, config)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(conv_drop)(x)
    x = _conv_block(x, 32, 4, config)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(conv_drop)(x)
    x = layers.Flatten()(x)
    x = _dense_block(x, 256, config, dense_drop)
    return keras.Model(inputs, layers.Dense(n_classes(config), activation="softmax")(x), name="cnn")


def _softmax_head(x, config):
    """The class probabilities, always float32 (under mixed precision too)."""
    from keras import layers

    return layers.Dense(n_classes(config), activation="softmax", dtype="float32")(x)


STEMS = ("conv", "stride2", "s2d")
WHITEN = whitening.MODES


def _fast_stem(x, config, filters: int):
    """The first layer of `fast`: where most of its time went (one input channel, a 20x20 output).

    conv: conv 5x5 then 2x2 pooling. stride2: a 5x5 conv with stride 2 (a quarter of the outputs, no
    pooling). s2d: space-to-depth (24x24x1 -> 12x12x4, built from Reshape and Permute so a saved
    model needs no custom code) then a 3x3 conv.
    """
    from keras import layers

    stem = config.extra.get("stem", "conv")
    if stem not in STEMS:
        raise ValueError(f"fast: stem must be one of {', '.join(STEMS)}, got {stem!r}")
    whiten = config.extra.get("whiten")
    if whiten and (whiten not in WHITEN or stem == "s2d"):
        raise ValueError(f"fast: whiten must be one of {', '.join(WHITEN)} (with the conv or stride2 stem), "
                         f"got {whiten!r} with the {stem} stem")
    if stem == "s2d":
        h, w = int(x.shape[1]) // 2, int(x.shape[2]) // 2
        x = layers.Reshape((h, 2, w, 2))(x)
        x = layers.Reshape((h, w, 4))(layers.Permute((1, 3, 2, 4))(x))
    kernel, strides = {"conv": (5, 1), "stride2": (5, 2), "s2d": (3, 1)}[stem]
    x = layers.Conv2D(filters, kernel, strides=strides, use_bias=not config.batch_norm, name="stem",
                      trainable=whiten != "frozen")(x)  # whitened: set from the data before fit (whitening.py)
    x = _fast_norm_relu(x, config)
    return layers.MaxPooling2D()(x) if stem == "conv" else x


def _fast_norm_relu(x, config):
    from keras import layers

    if config.batch_norm:
        x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.Activation("relu")(x)


def build_fast(config):
    """A small CNN that learns MNIST in two epochs (the public one-cycle recipe, with a cheaper net).

    Without an `extra` this is the public recipe's network (24/32/256, conv-then-pool stem). The
    recipe's net is narrower (16/32/128) with a stride-2 5x5 stem: a quarter less time per epoch
    than the space-to-depth 24/32/256 net it replaced. Alone, either change left a seed under 99%
    after two epochs; with label smoothing 0.1 (the recipe) 5 seeds of 5 reach it
    (bench/train_speed.py --variants, README). The recipe's stem is frozen whitening filters set from
    the training images before fit (models/whitening.py): 1.16-1.19x faster, no seed lost. Its batch
    norm, when asked for, uses momentum 0.9: with ~200 steps in a run, Keras' default 0.99 would leave
    the moving statistics mostly at their initial values.
    """
    import keras
    from keras import layers

    c1, c2, dense = config.extra.get("widths", (24, 32, 256))
    x = inputs = keras.Input((28, 28, 1))
    crop = int(config.extra.get("crop", 0))
    if crop:
        x = layers.Cropping2D(crop)(x)
    x = _fast_stem(x, config, int(c1))
    if config.extra.get("conv2_stride"):  # a 3x3 conv with stride 2 instead of conv then pooling
        x = _fast_norm_relu(layers.Conv2D(int(c2), 3, strides=2, use_bias=not config.batch_norm)(x), config)
    else:
        x = layers.Conv2D(int(c2), 3, use_bias=not config.batch_norm)(x)
        x = layers.MaxPooling2D()(_fast_norm_relu(x, config))
    x = layers.Dense(int(dense), activation="relu")(layers.Flatten()(x))
    drop = _dropout(config, 0.0)
    x = layers.Dropout(drop)(x) if drop > 0 else x
    return keras.Model(inputs, _softmax_head(x, config), name="fast")


def build_best(config):
    """Seven conv layers with batch norm; stride-2 5x5 convs instead of pooling; dropout 0.4."""
    import keras
    from keras import layers

    drop = _dropout(config, 0.4)
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for filters in (32, 64):
        x = _conv_block(x, filters, 3, config)
        x = _conv_block(x, filters, 3, config)
        x = layers.Conv2D(filters, 5, strides=2, padding="same", use_bias=not config.batch_norm)(x)
        if config.batch_norm:
            x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(drop)(x) if drop > 0 else x
    x = _conv_block(x, 128, 4, config)
    x = layers.Flatten()(x)
    x = layers.Dropout(drop)(x) if drop > 0 else x
    return keras.Model(inputs, _softmax_head(x, config), name="best")


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("softmax", "Softmax regression: one dense layer from 784 pixels to 10 classes (7,850 params).",
                  "keras", dict(epochs=5, batch_size=128, lr=3e-3), ()),
        ModelSpec("mlp", "Multilayer perceptron 784-256-128-64-10 with ReLU (242,762 params).",
                  "keras", dict(epochs=10, batch_size=128, lr=1e-3), ("dropout", "batch_norm", "augment")),
        ModelSpec("lenet5", "LeNet-5: conv 6@5x5, pool, conv 16@5x5, pool, dense 120-84-10 with ReLU (61,706 params).",
                  "keras", dict(epochs=10, batch_size=64, lr=1e-3), ("dropout", "batch_norm", "augment")),
        ModelSpec("cnn", "The seed project's CNN: 2x conv 32@4x4 + pool + dropout, dense 256, dropout 0.5 (150,858 params).",
                  "keras", dict(epochs=10, batch_size=32, lr=1e-3), ("dropout", "batch_norm", "augment")),
        ModelSpec("fast", "Fast CNN: 2-pixel border crop, a frozen whitening conv 16@5x5 with stride 2 (PCA filters of "
                  "the training images' patches), conv 32@3x3, pool, dense 128; "
                  "two epochs of one-cycle Adam with label smoothing 0.1 (bfloat16 where the CPU has it), 4 batches "
                  "per step call (72,010 params).", "keras",
                  dict(epochs=2, batch_size=256, lr=1.2e-2, schedule="onecycle", beta_1=0.7,
                       precision="mixed_bfloat16", steps_per_execution=4, label_smoothing=0.1,
                       extra={"crop": 2, "stem": "stride2", "widths": [16, 32, 128], "whiten": "frozen"}),
                  ("dropout", "batch_norm", "augment")),
        ModelSpec("best", "Best single CNN: 2x(conv 3x3, conv 3x3, conv 5x5 stride 2) at 32 and 64 channels, conv "
                  "128@4x4, batch norm, dropout 0.4; 30 epochs of random rotation, shift and zoom, cosine-decayed "
                  "Adam in bfloat16 (326,826 params).",
                  "keras", dict(epochs=30, batch_size=128, lr=2e-3, schedule="cosine", batch_norm=True, augment=True,
                                rotation_deg=10.0, shift=0.1, zoom=0.1, precision="mixed_bfloat16"),
                  ("dropout", "augment")),
        ModelSpec("numpy_softmax", "Softmax regression in pure NumPy with hand-written gradients (no TensorFlow).",
                  "numpy", dict(epochs=10, batch_size=128, lr=0.5, optimizer="sgd"), ()),
        ModelSpec("numpy_mlp", "MLP 784-256-128-64-10 in pure NumPy: hand-written backprop, mini-batch SGD with momentum.",
                  "numpy", dict(epochs=15, batch_size=64, lr=0.05, optimizer="sgd"), ()),
    )
}

KERAS_BUILDERS: dict[str, Callable] = {
    "softmax": build_softmax,
    "mlp": build_mlp,
    "lenet5": build_lenet5,
    "cnn": build_cnn,
    "fast": build_fast,
    "best": build_best,
}


def build(config):
    """Build an untrained model for `config` (a Keras model or a NumPy net)."""
    spec = MODELS[config.model]
    if spec.backend == "numpy":
        from mnist_core.models import numpy_nets

        return numpy_nets.build(config)
    return KERAS_BUILDERS[config.model](config)
