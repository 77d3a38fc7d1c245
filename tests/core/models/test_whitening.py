"""The whitened stem of `fast` (models/whitening.py): the filters, their layout in Keras, freezing in training."""

import numpy as np
import pytest

from mnist_core.models import whitening, zoo
from mnist_core.training import loop
from mnist_core.training.config import TrainConfig

FROZEN = {"crop": 2, "stem": "stride2", "widths": [16, 32, 128], "whiten": "frozen"}


def _images(n=300, seed=0):
    """Smooth random images: neighbouring pixels correlated, as in handwriting."""
    rng = np.random.default_rng(seed)
    noise = rng.random((n, 16, 16, 1))
    return (noise + np.roll(noise, 1, axis=1) + np.roll(noise, 1, axis=2)) / 3


def test_patches_are_the_windows_a_valid_strided_conv_sees():
    x = np.arange(2 * 7 * 7, dtype=np.float64).reshape(2, 7, 7, 1)
    rows = whitening.patches(x, 3, 2)
    assert rows.shape == (2 * 3 * 3, 9)
    np.testing.assert_array_equal(rows[0], x[0, 0:3, 0:3, 0].ravel())
    np.testing.assert_array_equal(rows[4], x[0, 2:5, 2:5, 0].ravel())  # row 1, column 1 of the 3 x 3 outputs
    np.testing.assert_array_equal(rows[9 + 8], x[1, 4:7, 4:7, 0].ravel())


def test_first_half_outputs_are_decorrelated_with_variance_over_variance_plus_eps():
    x = _images()
    kernel, bias = whitening.whitening_filters(x, 3, 1, 8, eps=1e-3)
    rows = whitening.patches(x, 3, 1)
    w = kernel.reshape(9, 8).astype(np.float64)
    out = rows @ w + bias
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)  # the bias removes the mean patch
    cov = np.cov(out[:, :4], rowvar=False)
    variance = np.sort(np.linalg.eigvalsh(np.cov(rows, rowvar=False)))[::-1][:4]
    np.testing.assert_allclose(cov, np.diag(variance / (variance + 1e-3)), atol=2e-5)
    np.testing.assert_array_equal(w[:, 4:], -w[:, :4])  # +/- pairs
    assert np.all(np.diag(cov) > 0.9)  # a whitened scale, not the raw pixels' tiny variances


def test_odd_or_too_many_filters_are_refused():
    with pytest.raises(ValueError, match="even number of filters, at most 18"):
        whitening.whitening_filters(_images(20), 3, 1, 7)
    with pytest.raises(ValueError, match="at most 18"):
        whitening.whitening_filters(_images(20), 3, 1, 20)


def test_the_keras_stem_computes_what_the_filters_say(tiny_splits):
    """The kernel's layout matches Keras': the stem's outputs come out whitened on the images it was set from."""
    import keras

    config = TrainConfig.for_model("fast", precision="float32", extra=FROZEN)
    net = zoo.build(config)
    whitening.whiten_stem(net, tiny_splits.x_train, config)
    stem = net.get_layer("stem")
    before_relu = keras.Model(net.input, stem.output)  # Conv2D has no activation here: its raw outputs
    out = np.asarray(before_relu(tiny_splits.x_train)).reshape(-1, 16).astype(np.float64)
    cov = np.cov(out[:, :8], rowvar=False)
    assert np.abs(cov - np.diag(np.diag(cov))).max() < 1e-3  # decorrelated
    assert np.all(np.diag(cov) > 0.9) and np.all(np.diag(cov) < 1.0 + 1e-4)


def test_frozen_stem_is_not_trained_and_the_saved_model_keeps_it(tiny_splits, store_root):
    from mnist_core.models import loading

    config = TrainConfig.for_model("fast", epochs=1, batch_size=50, precision="float32", extra=FROZEN, name="white")
    net = zoo.build(config)
    assert not net.get_layer("stem").trainable
    whitening.whiten_stem(net, tiny_splits.x_train, config)
    expected = net.get_layer("stem").get_weights()
    loop.train(config, splits=tiny_splits)
    saved = loading.load("white").net.get_layer("stem").get_weights()
    for got, want in zip(saved, expected):
        np.testing.assert_array_equal(got, want)


def _stem_after_training(config, splits):
    """The stem's kernel as training left it, and as whitening set it before training."""
    from mnist_core.training.observers import Progress

    seen = {}

    class Grab(Progress):
        def epoch_model(self, epoch, net):
            seen["kernel"] = net.get_layer("stem").get_weights()[0]
            return False

    loop.train(config, splits=splits, progress=Grab(), save=False)
    kernel, _ = whitening.whitening_filters(splits.x_train[:, 2:26, 2:26], 5, 2, 16)
    return seen["kernel"], kernel


@pytest.mark.parametrize("mode, trained", [("frozen", False), ("init", True)])
def test_only_init_mode_trains_the_whitened_stem(tiny_splits, mode, trained):
    config = TrainConfig.for_model("fast", epochs=1, batch_size=50, precision="float32",
                                   extra={**FROZEN, "whiten": mode})
    after, whitened = _stem_after_training(config, tiny_splits)
    assert np.array_equal(after, whitened) is not trained
    np.testing.assert_allclose(after, whitened, atol=0.5)  # trained or not, it started whitened


def test_unknown_whitening_or_s2d_stem_is_refused():
    with pytest.raises(ValueError, match="whiten must be one of frozen, init"):
        zoo.build(TrainConfig.for_model("fast", extra={**FROZEN, "whiten": "pca"}))
    with pytest.raises(ValueError, match="with the s2d stem"):
        zoo.build(TrainConfig.for_model("fast", extra={**FROZEN, "stem": "s2d"}))
