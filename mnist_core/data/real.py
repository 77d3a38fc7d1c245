"""Real handwriting by people outside MNIST: the development sources, rendered as a user would upload them.

Every source is turned into ordinary images (dark ink on white paper, or the
source's own pixels) so that it reaches a model through the same decode and
preprocessing as an upload; nothing here produces model input directly.

Sources (../shared/data/real/, its README gives origins and licences):
- optdigits: 32x32 binary bitmaps of scanned forms, 30 writers, no writer ids;
  also offered at 16x16 and 8x8 (grey, by averaging blocks, as the UCI 8x8
  set was made), the resolutions of the third-party scanned sets;
- uji: pen strokes drawn on a tablet by 60 writers (two samples each per
  digit, writer = index // 2), rendered at several pen widths and sizes;
- hds: hand-drawn ellipses, rectangles, triangles and "other" drawings by 21
  people (70x70 grey).

The unit of honesty is the person: `person_split` divides any source by
writer, so a model that learns from some people is scored on the others.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mnist_core import paths
from mnist_core.errors import UserError

SHAPE_LABELS = ("ellipse", "rectangle", "triangle")  # HDS classes the shapes task knows; "other" is not a shape
UJI_PENS = (0.04, 0.08, 0.14)  # pen width as a share of the digit's height: fine, ballpoint, marker
UJI_SIZES = (64, 200)  # canvas side in pixels: a small crop and a phone-sized drawing


class RealDataMissing(UserError, FileNotFoundError):
    """The shared development data is not beside the repository."""


def real_dir() -> Path:
    return Path(os.environ.get("MNIST_STUDIO_REAL_DATA", paths.REPO_ROOT.parent / "shared" / "data" / "real"))


def _path(name: str) -> Path:
    p = real_dir() / name
    if not p.exists():
        raise RealDataMissing(f"{p} not found: the real development data lives in ../shared/data/real "
                              "(or set MNIST_STUDIO_REAL_DATA)")
    return p


def available() -> bool:
    return all((real_dir() / n).exists() for n in ("optdigits30_dev.npz", "hds_shapes_dev.npz",
                                                     "uji_pen_digits/ujipenchars2_digits.json"))


@dataclass(frozen=True)
class Source:
    """One real source as images: each a 2-D uint8 array (0 black, 255 white), its label and its person."""

    name: str
    images: list
    labels: np.ndarray
    people: np.ndarray  # writer ids; -1 where the source does not say who wrote it
    note: str = ""

    def subset(self, index) -> "Source":
        index = np.asarray(index)
        return Source(self.name, [self.images[i] for i in index], self.labels[index], self.people[index], self.note)

    def __len__(self) -> int:
        return len(self.labels)


def optdigits_bitmaps() -> tuple:
    with np.load(_path("optdigits30_dev.npz")) as z:
        return z["bitmaps"].astype(np.uint8), z["labels"].astype(np.int64)


def block_average(bitmaps: np.ndarray, side: int) -> np.ndarray:
    """Ink share per block (N, side, side) in [0, 1]: 32x32 -> 8x8 is UCI's own 4x4 pixel count / 16."""
    n, h, w = bitmaps.shape
    f = h // side
    return bitmaps.reshape(n, side, f, side, f).mean(axis=(2, 4))


def optdigits(side: int = 32) -> Source:
    """The scanned forms at 32, 16 or 8 pixels, dark ink on white like a scan (no writer ids)."""
    bitmaps, labels = optdigits_bitmaps()
    ink = block_average(bitmaps.astype(np.float32), side) if side != 32 else bitmaps.astype(np.float32)
    images = list(np.round(255 * (1 - ink)).astype(np.uint8))
    return Source(f"optdigits{side}", images, labels, np.full(len(labels), -1),
                  "30 writers, scanned forms, NIST-normalised bitmaps" + (f", averaged to {side}x{side}" if side != 32 else ""))


def uji_strokes() -> tuple:
    """(samples, labels, writers): a sample is a list of strokes of (x, y) points, y downwards."""
    raw = json.loads(_path("uji_pen_digits/ujipenchars2_digits.json").read_text())["rawData"]
    samples, labels, writers = [], [], []
    for digit in sorted(raw, key=int):
        for i, sample in enumerate(raw[digit]):
            samples.append([np.asarray(s, np.float32).reshape(-1, 2) for s in sample])
            labels.append(int(digit))
            writers.append(i // 2)  # two samples per writer, in writer order (the source's own parser)
    return samples, np.array(labels), np.array(writers)


def render_strokes(strokes: list, size: int, pen: float, margin: float = 0.15) -> np.ndarray:
    """Draw pen strokes dark on white on a size x size canvas; pen is a share of the digit's height."""
    pts = np.concatenate(strokes)
    lo, hi = pts.min(0), pts.max(0)
    extent = max(float((hi - lo).max()), 1.0)
    scale = size * (1 - 2 * margin) / extent
    offset = (size - (hi - lo) * scale) / 2
    width = max(1, round(pen * (hi[1] - lo[1] + 1) * scale if hi[1] > lo[1] else pen * size))
    im = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(im)
    for s in strokes:
        xy = [tuple(p) for p in ((s - lo) * scale + offset).tolist()]
        if len(xy) == 1:
            xy = xy * 2
        d.line(xy, fill=0, width=width, joint="curve")
        r = width / 2  # round caps, as a pen leaves
        for x, y in (xy[0], xy[-1]):
            d.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return np.asarray(im)


def uji(pens=UJI_PENS, sizes=UJI_SIZES) -> Source:
    """Every tablet sample at every pen width and canvas size (each rendering keeps its writer)."""
    samples, labels, writers = uji_strokes()
    images, ys, ws = [], [], []
    for size in sizes:
        for pen in pens:
            images += [render_strokes(s, size, pen) for s in samples]
            ys.append(labels)
            ws.append(writers)
    return Source("uji", images, np.concatenate(ys), np.concatenate(ws),
                  f"60 writers, tablet strokes rendered at pens {list(pens)} of the height, {list(sizes)} px")


def hds(labels=None) -> Source:
    """Hand-drawn shapes, grey dark on white, with each drawing's person; labels filters the classes."""
    with np.load(_path("hds_shapes_dev.npz")) as z:
        images, names, people = z["images"], z["labels"].astype(str), z["people"].astype(str)
    keep = np.ones(len(names), bool) if labels is None else np.isin(names, list(labels))
    return Source("hds", list(images[keep]), names[keep], people[keep], "21 people, drawn shapes, 70x70 grey")


def person_split(people: np.ndarray, held_out: float = 0.3, seed: int = 0) -> tuple:
    """Indices (train, held) with no person on both sides; about `held_out` of the people are held.

    Deterministic for a seed, whatever the order of the rows."""
    people = np.asarray(people).astype(str)
    ids = np.array(sorted(set(people.tolist())))
    rng = np.random.default_rng(seed)
    held_ids = set(rng.permutation(ids)[:max(1, round(held_out * len(ids)))].tolist())
    held = np.isin(people, list(held_ids))
    return np.flatnonzero(~held), np.flatnonzero(held)


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def as_upload(source: Source) -> list:
    """[(file name, PNG bytes)] with the label first in each name, as the collection reader expects."""
    return [(f"{source.labels[i]}_{source.name}-{i:05d}.png", png_bytes(im)) for i, im in enumerate(source.images)]
