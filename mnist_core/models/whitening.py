"""A whitened first layer: `fast`'s stem set to PCA filters of the training images' patches.

Each filter pair is one principal direction of the k x k patches scaled by 1/sqrt(its variance), once
with each sign, so after the ReLU both halves of every direction survive. The stem's outputs start
decorrelated and of one scale, which is what lets the fast CIFAR-10 recipes freeze their first layer:
frozen, it needs no weight gradient and the next layer needs no input gradient (bench/train_speed.py,
README: 1.16-1.19x per run on `fast`, no seed lost).
"""

from __future__ import annotations

import numpy as np

MODES = ("frozen", "init")  # frozen: set once, never trained; init: set, then trained like any layer
SAMPLE = 2048  # images: about 200,000 patches, plenty for a 25 x 25 covariance (and 0.1 s)
EPS = 1e-3  # added to each variance: keeps a near-empty direction from being blown up


def patches(images: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Every k x k patch a VALID conv with this stride sees, as rows in Keras' kernel order (row, col, channel)."""
    n, height, width, channels = images.shape
    rows, cols = (height - k) // stride + 1, (width - k) // stride + 1
    taps = [images[:, i:i + stride * rows:stride, j:j + stride * cols:stride, :] for i in range(k) for j in range(k)]
    return np.stack(taps, axis=3).reshape(n * rows * cols, k * k * channels)


def whitening_filters(images: np.ndarray, k: int, stride: int, filters: int, eps: float = EPS):
    """(kernel k x k x c x filters, bias filters): the top filters/2 principal directions, each with both signs.

    Before the ReLU, output i of the first half is the patch's coordinate along direction i (mean
    removed by the bias) divided by sqrt(variance + eps): over these images, those outputs have
    covariance diag(variance / (variance + eps)), nearly the identity.
    """
    if filters % 2 or filters // 2 > k * k * images.shape[-1]:
        raise ValueError(f"a whitened stem needs an even number of filters, at most {2 * k * k * images.shape[-1]}, "
                         f"got {filters}")
    rows = patches(images.astype(np.float64), k, stride)
    mean = rows.mean(axis=0)
    variance, directions = np.linalg.eigh(np.cov(rows, rowvar=False))
    top = np.argsort(variance)[::-1][:filters // 2]
    half = directions[:, top] / np.sqrt(variance[top] + eps)
    w = np.concatenate([half, -half], axis=1)
    return w.reshape(k, k, images.shape[-1], filters).astype(np.float32), (-mean @ w).astype(np.float32)


def whiten_stem(net, images: np.ndarray, config) -> None:
    """Set the layer named 'stem' of a `fast` net from these training images (the first SAMPLE of them)."""
    stem = net.get_layer("stem")
    crop = int(config.extra.get("crop", 0))
    sample = images[:SAMPLE, crop:images.shape[1] - crop, crop:images.shape[2] - crop, :]
    kernel, bias = whitening_filters(sample, stem.kernel_size[0], stem.strides[0], stem.filters)
    stem.set_weights([kernel, bias] if stem.use_bias else [kernel])
