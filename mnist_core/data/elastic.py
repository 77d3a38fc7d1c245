"""One-pass random warps for training batches: rotation, shift, zoom and elastic distortion.

Every transform becomes one displacement field per image and the batch is
resampled once (bilinear, black outside), which is cheaper than chaining
three Keras preprocessing layers and keeps the digit from being blurred
three times. All randomness comes from stateless ops keyed by an explicit
seed, so a tf.data map running in parallel still gives the same batches for
the same seed. Elastic distortion follows Simard et al. (2003): uniform
noise in [-1, 1] per pixel and axis, smoothed by a Gaussian of width
`sigma` pixels, scaled by `alpha`.
"""

from __future__ import annotations

import math


def gaussian_kernel(sigma: float):
    """1-D normalised Gaussian taps out to three sigma (a float32 tensor)."""
    import tensorflow as tf

    radius = max(1, int(math.ceil(3 * sigma)))
    t = tf.range(-radius, radius + 1, dtype=tf.float32)
    k = tf.exp(-0.5 * (t / sigma) ** 2)
    return k / tf.reduce_sum(k)


def _smooth(field, sigma: float):
    """Separable Gaussian blur of a (B, H, W, C) field, zero beyond the border."""
    import tensorflow as tf

    k = gaussian_kernel(sigma)
    channels = field.shape[-1]
    kx = tf.tile(tf.reshape(k, (1, -1, 1, 1)), (1, 1, channels, 1))
    ky = tf.tile(tf.reshape(k, (-1, 1, 1, 1)), (1, 1, channels, 1))
    field = tf.nn.depthwise_conv2d(field, kx, (1, 1, 1, 1), "SAME")
    return tf.nn.depthwise_conv2d(field, ky, (1, 1, 1, 1), "SAME")


def bilinear_sample(images, ys, xs):
    """images (B, H, W, C) sampled at source coordinates ys, xs (B, H, W); black outside."""
    import tensorflow as tf

    shape = tf.shape(images)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])  # a black frame for out-of-range taps
    flat = tf.reshape(padded, (-1, c))
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    base = tf.reshape(tf.range(b) * (h + 2) * (w + 2), (-1, 1, 1))

    def tap(yy, xx):
        yy = tf.cast(tf.clip_by_value(yy, -1.0, hf), tf.int32) + 1
        xx = tf.cast(tf.clip_by_value(xx, -1.0, wf), tf.int32) + 1
        return tf.gather(flat, base + yy * (w + 2) + xx)

    top = tap(y0, x0) * (1 - wx) + tap(y0, x0 + 1) * wx
    bottom = tap(y0 + 1, x0) * (1 - wx) + tap(y0 + 1, x0 + 1) * wx
    return top * (1 - wy) + bottom * wy


def random_warp(images, seed, rotation_deg: float = 0.0, shift: float = 0.0, zoom: float = 0.0,
                elastic_alpha: float = 0.0, elastic_sigma: float = 4.0):
    """A random affine + elastic warp of each image in a (B, H, W, C) float batch.

    seed: a shape-(2,) integer tensor for the stateless random ops.
    rotation_deg: uniform in [-r, r]; shift: uniform fraction of the side in
    [-s, s]; zoom: scale per axis uniform in [1 - z, 1 + z]; elastic_alpha:
    displacement scale in pixels (0 turns it off).
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    shape = tf.shape(images)
    b, h, w = shape[0], shape[1], shape[2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)

    def uniform(i, size, bound):
        return tf.random.stateless_uniform((b,), seeds[i], -bound, bound) if bound > 0 else tf.zeros((b,))

    angle = uniform(0, b, math.radians(rotation_deg))
    sy, sx = 1.0 + uniform(1, b, zoom), 1.0 + uniform(2, b, zoom)
    shifts = tf.random.stateless_uniform((b, 2), seeds[3], -shift, shift) if shift > 0 else tf.zeros((b, 2))
    ty, tx = shifts[:, 0] * hf, shifts[:, 1] * wf

    # Output pixel u (relative to the centre) reads source R(-angle) u / scale - t.
    gy, gx = tf.meshgrid(tf.range(hf) - (hf - 1) / 2, tf.range(wf) - (wf - 1) / 2, indexing="ij")
    cos, sin = [tf.reshape(f(angle), (-1, 1, 1)) for f in (tf.cos, tf.sin)]
    ys = (cos * gy - sin * gx) / tf.reshape(sy, (-1, 1, 1)) - tf.reshape(ty, (-1, 1, 1)) + (hf - 1) / 2
    xs = (sin * gy + cos * gx) / tf.reshape(sx, (-1, 1, 1)) - tf.reshape(tx, (-1, 1, 1)) + (wf - 1) / 2
    if elastic_alpha > 0:
        noise = tf.random.stateless_uniform((b, h, w, 2), seeds[4], -1.0, 1.0)
        field = _smooth(noise, elastic_sigma) * elastic_alpha
        ys, xs = ys + field[..., 0], xs + field[..., 1]
    return bilinear_sample(images, ys, xs)
