import numpy as np
import pytest

from mnist_core.data import augment, elastic
from mnist_core.training.config import TrainConfig


def _blob(n=4):
    x = np.zeros((n, 28, 28, 1), np.float32)
    x[:, 11:17, 12:16, 0] = 1.0
    return x


def test_no_ranges_is_the_identity():
    import tensorflow as tf

    x = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype(np.float32)
    out = elastic.random_warp(x, tf.constant([1, 2]))
    np.testing.assert_allclose(out.numpy(), x, atol=1e-6)


def test_bilinear_sample_moves_and_fills_black():
    import tensorflow as tf

    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    gy, gx = np.meshgrid(np.arange(4.0), np.arange(4.0), indexing="ij")
    out = elastic.bilinear_sample(tf.constant(x), tf.constant(gy[None], tf.float32),
                                  tf.constant(gx[None] - 1, tf.float32)).numpy()[0, :, :, 0]
    np.testing.assert_allclose(out[:, 1:], x[0, :, :3, 0])  # moved one pixel right
    np.testing.assert_allclose(out[:, 0], 0)  # read from outside: black
    half = elastic.bilinear_sample(tf.constant(x), tf.constant(gy[None], tf.float32),
                                   tf.constant(gx[None] + 0.5, tf.float32)).numpy()[0, 0, 0, 0]
    assert half == pytest.approx(0.5)


def test_same_seed_same_warp_and_new_seed_new_warp():
    import tensorflow as tf

    x = _blob()
    args = dict(rotation_deg=15, shift=0.1, zoom=0.1, elastic_alpha=34, elastic_sigma=4)
    a = elastic.random_warp(x, tf.constant([3, 0]), **args).numpy()
    b = elastic.random_warp(x, tf.constant([3, 0]), **args).numpy()
    c = elastic.random_warp(x, tf.constant([4, 0]), **args).numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])  # every image in a batch gets its own warp


@pytest.mark.parametrize("kwargs", [dict(shift=0.1), dict(rotation_deg=20), dict(elastic_alpha=34)])
def test_each_transform_moves_ink_but_keeps_it(kwargs):
    import tensorflow as tf

    x = _blob(8)
    out = elastic.random_warp(x, tf.constant([5, 1]), **kwargs).numpy()
    assert not np.allclose(out, x)
    mass = out.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert 0.85 < mass.mean() < 1.15 and mass.min() > 0.5  # elastic fields compress and stretch locally
    assert out.min() >= 0 and out.max() <= 1 + 1e-6


def test_zoom_in_grows_and_zoom_out_shrinks_on_average():
    import tensorflow as tf

    x = _blob(64)
    out = elastic.random_warp(x, tf.constant([9, 9]), zoom=0.3).numpy()
    mass = out.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert mass.min() < 0.85 and mass.max() > 1.15  # area scales with the random zoom both ways


def test_preview_is_reproducible_and_each_seed_draws_a_new_warp():
    config = TrainConfig(augment=True, elastic_alpha=30)
    x = _blob(5)
    out = augment.preview(x, config, seed=1)
    assert out.shape == x.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert np.array_equal(out, augment.preview(x, config, seed=1))
    assert not np.array_equal(out, augment.preview(x, config, seed=2))
    assert not np.array_equal(out, x)


def test_gaussian_kernel_is_normalised():
    k = elastic.gaussian_kernel(4.0).numpy()
    assert k.sum() == pytest.approx(1.0) and len(k) == 25 and k.argmax() == 12
