"""Decode untrusted image bytes safely: size checks before decoding, Pillow's
bomb guard raised to an error, a restricted set of formats, EXIF orientation
applied, and every failure turned into an ImageError with a reason a user can act on.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_core.errors import UserError

MAX_PIXELS = 40_000_000
MAX_FILE_BYTES = 200 * 2**20
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")  # JPEG also opens phone MPO files


ACCEPTED = "accepted: complete PNG, JPEG, GIF, BMP, TIFF, WebP or PPM images"


def plain_decode_error(exc: Exception) -> str:
    """What a decoder's exception means for the person who sent the file, in plain words."""
    text = str(exc)
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        what = "the file is cut short (truncated): it ends before the picture does (an interrupted download or copy?)"
    elif isinstance(exc, (SyntaxError, ValueError, OSError, KeyError, IndexError, struct.error)):
        what = "the file is corrupt: its image data is damaged and cannot be decoded"
    else:
        what = "the image could not be decoded"
    return f"{what}; {ACCEPTED} (the decoder said: {text or type(exc).__name__})"


class ImageError(UserError, ValueError):
    """An image that cannot be used; the message says why and what is accepted."""


def load_image(source, name: str | None = None, *, max_pixels: int = MAX_PIXELS,
               draft: int | None = None) -> Image.Image:
    """Decode a path, bytes or file-like object into a loaded PIL image, EXIF orientation applied.

    `draft` is for the batch path: a JPEG is decoded straight to grey and may
    shrink by a power of two while its long side stays >= draft pixels."""
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "image")
    fp = _open_source(source, label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=FORMATS)
            w, h = im.size
            if w * h > max_pixels:
                raise ImageError(f"{label}: {w}x{h} pixels is too large (at most {max_pixels / 1e6:.0f} megapixels)")
            if w < 1 or h < 1:
                raise ImageError(f"{label}: the image has no pixels ({w}x{h})")
            if draft and im.format in ("JPEG", "MPO") and im.mode in ("L", "RGB"):
                im.draft("L", (draft, draft))
            im.seek(0)  # animated GIF/WebP/TIFF: the first frame
            im.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{label}: image is too large (decompression bomb guard: {exc})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not a readable image ({ACCEPTED})") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise many types on corrupt data
        raise ImageError(f"{label}: {plain_decode_error(exc)}") from None
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the picture
        pass
    return im


def _open_source(source, label: str):
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{label}: no such file" if not path.exists() else f"{label}: not a regular file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageError(f"{label}: file is larger than {MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ImageError(f"{label}: file is larger than {MAX_FILE_BYTES // 2**20} MB")
    else:
        raise ImageError(f"{label}: expected a path, bytes or a file object, not {type(source).__name__}")
    if not data:
        raise ImageError(f"{label}: empty file (0 bytes)")
    return io.BytesIO(data)


def as_image(image) -> Image.Image:
    """A PIL image from a PIL image or an array (H, W), (H, W, 3) or (H, W, 4); floats are taken as [0, 1]."""
    if isinstance(image, Image.Image):
        return image
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.size == 0:
        raise ImageError(f"expected an image array of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.dtype.kind == "f":
        a = (np.clip(np.nan_to_num(a), 0, 1) * 255 + 0.5).astype(np.uint8)
    elif a.dtype == np.uint16 and a.ndim == 2:
        return Image.fromarray(a)  # I;16, scaled by to_grey
    elif a.dtype.kind == "b":
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a))
