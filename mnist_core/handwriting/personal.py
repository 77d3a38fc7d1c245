"""The personal collection: drawings the user labelled on the Draw page, kept on disk for fine-tuning.

Each correction is a PNG of the drawing as drawn (the canvas pixels), saved as
`<label>/draw-<time>-<hex>.png` under paths.collections_dir() (git-ignored;
MNIST_STUDIO_COLLECTIONS moves it). The folder is an ordinary labelled
collection: read_collection, evaluate and finetune read it like any upload,
and zip_bytes() packs it for download.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_core import access, paths
from mnist_core.errors import UserError

NAME_RE = re.compile(r"^draw-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}\.png$")


class CorrectionError(UserError, ValueError):
    """A drawing that cannot be kept or found in the collection; the message says why."""


def root() -> Path:
    return paths.collections_dir()


def add(image, label: int, folder: Path | None = None) -> Path:
    """Save a drawing (array (H, W[, 3|4]) or PIL image) as an example of `label`; returns its path."""
    access.require_editor("add a drawing to your collection")
    label = _check_label(label)
    im = image if isinstance(image, Image.Image) else Image.fromarray(_uint8(np.asarray(image)))
    if im.width < 1 or im.height < 1:
        raise CorrectionError("the drawing is empty")
    target = (folder or root()) / str(int(label))
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"draw-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.png"
    tmp = path.with_name(f".{path.name}.tmp")
    im.save(tmp, format="PNG")
    os.replace(tmp, path)  # a listing never sees half a file
    return path


def _uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    scale = 255.0 if a.size and float(np.nanmax(a)) <= 1.0 else 1.0
    return np.clip(np.nan_to_num(a) * scale, 0, 255).astype(np.uint8)


def items(folder: Path | None = None) -> list[dict]:
    """Every saved correction, newest first: {file (label/name), label, path, created}."""
    base = folder or root()
    out = []
    for label in range(10):
        for p in (base / str(label)).glob("draw-*.png"):
            if NAME_RE.match(p.name) and p.is_file():
                out.append({"file": f"{label}/{p.name}", "label": label, "path": p, "created": p.stat().st_mtime})
    return sorted(out, key=lambda r: -r["created"])


def counts(folder: Path | None = None) -> dict[int, int]:
    found = items(folder)
    return {k: sum(r["label"] == k for r in found) for k in range(10)}


def _path(file: str, folder: Path | None = None) -> Path:
    """The path of a correction named as items() names it (label/name); anything else is a ValueError."""
    label, _, name = file.partition("/") if isinstance(file, str) else ("", "", "")
    if not re.fullmatch(r"[0-9]", label) or not NAME_RE.match(name):
        raise CorrectionError(f"not a correction in the collection: {file!r}")
    return (folder or root()) / label / name


def _check_label(label) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise CorrectionError(f"a correction's label is one digit 0-9, got {label!r}")
    return int(label)


def remove(file: str, folder: Path | None = None) -> None:
    """Delete one correction named as items() names it (label/name); anything else is refused."""
    access.require_editor("remove a drawing from your collection")
    _path(file, folder).unlink(missing_ok=True)


def relabel(file: str, label: int, folder: Path | None = None) -> str:
    """Give a saved correction another label (one drawing, one label: it moves, never copies); returns its
    new name (label/name). A correction that is no longer there is a FileNotFoundError."""
    access.require_editor("change a drawing's label in your collection")
    source, label = _path(file, folder), _check_label(label)
    target = (folder or root()) / str(label)
    target.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target / source.name)  # one rename: a listing sees it under one label only
    except FileNotFoundError:
        raise FileNotFoundError(f"the drawing {file} is no longer in your collection") from None
    return f"{label}/{source.name}"


def thumbnail(file: str, size: int = 56, folder: Path | None = None) -> np.ndarray:
    """A small square picture of a saved correction: its ink cropped with a margin, on black (uint8, size x size)."""
    with Image.open(_path(file, folder)) as im:
        im.load()
        rgba = im.convert("RGBA")
    ink = Image.new("L", rgba.size, 0)
    ink.paste(rgba.convert("L"), mask=rgba.getchannel("A"))  # a transparent layer counts as no ink
    box = ink.getbbox()
    if box:
        left, top, right, bottom = box
        side = max(right - left, bottom - top) * 1.2 + 4
        cx, cy = (left + right) / 2, (top + bottom) / 2
        ink = ink.crop((int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)))
    return np.asarray(ink.resize((size, size), Image.LANCZOS))


def zip_bytes(folder: Path | None = None) -> bytes:
    """The collection as a ZIP laid out label/file.png, readable as an upload anywhere in the studio."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for r in sorted(items(folder), key=lambda r: r["file"]):
            zf.write(r["path"], r["file"])
    return buf.getvalue()


def uploads(folder: Path | None = None) -> list[tuple[str, bytes]]:
    """[(label/name, bytes)] of every correction: the form the Batch page and finetune take."""
    return [(r["file"], r["path"].read_bytes()) for r in sorted(items(folder), key=lambda r: r["file"])]
