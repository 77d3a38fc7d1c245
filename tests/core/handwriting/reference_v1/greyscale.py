"""Any Pillow image mode -> one grey channel, with transparency resolved.

Alpha is composited onto the background a viewer would assume: a drawing on a
transparent layer (the Draw page's canvas: white strokes, transparent
elsewhere) goes onto the colour opposite its ink, while an opaque picture with
transparent margins gets those margins filled with its own paper colour.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
WIDE_MODES = ("I", "F")  # plus every "I;16..." variant


def to_grey(im: Image.Image) -> Image.Image:
    """Mode L (8-bit sources) or F in [0, 1] (16-bit and float sources)."""
    mode = im.mode
    if mode == "L":
        return im
    if mode in WIDE_MODES or mode.startswith("I;"):
        return _wide_to_grey(im)
    if mode in ALPHA_MODES or (mode in ("P", "RGB", "L") and "transparency" in im.info):
        return _composite(im.convert("RGBA"))
    if mode == "CMYK":
        return im.convert("RGB").convert("L")
    try:
        return im.convert("L")
    except (ValueError, OSError):  # LAB, HSV and other modes without a direct conversion
        try:
            return im.convert("RGB").convert("L")
        except (ValueError, OSError):
            return im.getchannel(0)


def grey_array(grey: Image.Image) -> np.ndarray:
    a = np.asarray(grey, dtype=np.float32)
    return a / 255.0 if grey.mode == "L" else a


def _wide_to_grey(im: Image.Image) -> Image.Image:
    """16/32-bit integers and floats: scale by the range the values actually use."""
    a = np.asarray(im).astype(np.float32)
    a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(a.min()), float(a.max())
    if lo >= 0 and hi <= 1.0 and im.mode == "F":
        full = 1.0
    elif lo >= 0 and hi <= 255:
        full = 255.0
    elif lo >= 0 and hi <= 65535:
        full = 65535.0
    else:  # negative or beyond 16 bits: stretch what is there
        a = a - lo
        full = max(hi - lo, 1e-12)
    return Image.fromarray(np.clip(a / full, 0, 1).astype(np.float32))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _composite(rgba: Image.Image) -> Image.Image:
    probe = rgba if max(rgba.size) <= 256 else rgba.resize(
        (max(1, rgba.size[0] * 256 // max(rgba.size)), max(1, rgba.size[1] * 256 // max(rgba.size))),
        Image.Resampling.NEAREST)
    a = np.asarray(probe, dtype=np.float32) / 255.0
    alpha = a[..., 3]
    if alpha.min() >= 0.99:
        return rgba.convert("L")
    lum = _luminance(a)
    opaque = alpha > 0.5
    if opaque.mean() < 0.5:
        # mostly transparent: the opaque pixels are the ink; put them on the opposite colour
        ink = float((lum * alpha).sum() / max(alpha.sum(), 1e-6))
        paper = 0 if ink > 0.5 else 255
    else:
        paper = int(round(float(np.median(lum[opaque])) * 255))
    canvas = Image.new("RGBA", rgba.size, (paper, paper, paper, 255))
    return Image.alpha_composite(canvas, rgba).convert("L")
