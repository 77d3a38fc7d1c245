"""`fast`'s space-to-depth stem, shown as the filters it is on the image."""

import numpy as np

from mnist_core.analysis import explain
from mnist_core.models import zoo
from mnist_core.models.loading import LoadedModel
from mnist_core.training.config import TrainConfig


def test_unfolded_filters_do_on_the_image_what_the_conv_does_on_blocks():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 4, 5)).astype(np.float32)
    x = rng.random((2, 24, 24, 1)).astype(np.float32)
    on_blocks = tf.nn.conv2d(tf.nn.space_to_depth(x, 2), w, strides=1, padding="VALID")
    w6 = explain.unfold_space_to_depth(w)
    assert w6.shape == (6, 6, 1, 5)
    on_image = tf.nn.conv2d(x, w6, strides=2, padding="VALID")
    np.testing.assert_allclose(on_image, on_blocks, rtol=1e-5, atol=1e-5)
    assert w6[3, 4, 0, 2] == w[1, 2, 2 * 1 + 0, 2]  # row 3 = block row 1, offset 1; column 4 = block column 2, offset 0


def test_fast_shows_its_first_filters_on_the_image_and_others_unchanged():
    # The space-to-depth stem (the recipe's until 2026-12-07; a stride-2 conv since)
    net = zoo.build(TrainConfig.for_model("fast", precision="float32", extra={"crop": 2, "stem": "s2d"}))
    filters = explain.conv_filters(LoadedModel("f", {"kind": "fast"}, net, "keras"))
    assert filters[0]["weights"].shape == (6, 6, 1, 24)
    assert filters[0]["title"] == "conv 1: 24 filters 3x3 on 2x2 blocks = 6x6 on the image, stride 2"
    assert filters[1]["weights"].shape == (3, 3, 24, 32) and filters[1]["title"] == "conv 2: 32 filters 3x3"
    conv = zoo.build(TrainConfig.for_model("fast", precision="float32", extra={"crop": 2, "stem": "conv"}))
    plain = explain.conv_filters(LoadedModel("c", {"kind": "fast"}, conv, "keras"))
    assert plain[0]["weights"].shape == (5, 5, 1, 24) and plain[0]["title"] == "conv 1: 24 filters 5x5"
