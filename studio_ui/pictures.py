"""Small images for st.image and table thumbnails, upscaled without blur."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_uint8(img: np.ndarray) -> np.ndarray:
    """float [0, 1] or uint8, any of (h, w), (h, w, 1) -> uint8 (h, w); NaN becomes a mid grey."""
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype == np.uint8:
        return arr
    arr = np.nan_to_num(arr.astype(np.float32), nan=0.35)
    return (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)


def crisp(img: np.ndarray, scale: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling: browsers blur small images scaled up."""
    return np.kron(to_uint8(img), np.ones((scale, scale), np.uint8))


def grid(images: np.ndarray, cols: int, pad: int = 2, scale: int = 2) -> np.ndarray:
    """(N, 28, 28[, 1]) images as one crisp uint8 sheet with dark grey gutters."""
    tiles = np.stack([to_uint8(i) for i in images])
    n, h, w = tiles.shape
    rows = int(np.ceil(n / cols))
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 60, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        sheet[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = tile
    return crisp(sheet, scale)


def data_url(img: np.ndarray, scale: int = 2) -> str:
    """A PNG data URL, for st.column_config.ImageColumn thumbnails."""
    buf = io.BytesIO()
    Image.fromarray(crisp(img, scale)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
