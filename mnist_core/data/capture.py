"""MNIST digits re-captured the way other sources capture handwriting, for training.

Measured on the development sources (bench/realworld.py --stats): MNIST keeps a
digit's own aspect ratio (median width/height 0.50 for a 1, 1.00 for a 2),
while the NIST-normalised scanned forms stretch every digit to nearly the same
box (0.60-0.69 for every class, so a 1 becomes a thick bar), draw strokes
bolder (0.13-0.19 of the long side against MNIST's 0.11), are binary, and come
at 32, 16 or 8 pixels. A model that never saw those reads tall thick 1s as
"not a digit" or as 4, 7, 9.

`scan` redraws one MNIST digit like such a scan: optionally stretched to a box
aspect, thickened, binarised, placed in a 32-pixel cell, averaged down to 32,
16 or 8 pixels, dark on white (sometimes light on dark). `styled` sends those
through the product's own preprocessing (analyse + render), so the model
learns them in exactly the form a scanned upload reaches it.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_core import paths

CELLS = (32, 16, 8)
CELL_P = (0.4, 0.35, 0.25)
STYLE_VERSION = 1


def cache_dir() -> Path:
    return Path(os.environ.get("MNIST_STUDIO_CAPTURE_CACHE", paths.REPO_ROOT / "data" / "capture-cache"))


def _dilate(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1)
    return np.max([p[dy:dy + a.shape[0], dx:dx + a.shape[1]] for dy in range(3) for dx in range(3)], axis=0)


def scan(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (28x28 float, white on black) as a scanned-form cell: uint8, 0 black, 255 white."""
    d = np.asarray(digit, np.float32).reshape(28, 28)
    ys, xs = np.nonzero(d > 0.1)
    crop = d[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    height = int(rng.integers(24, 33))
    stretched = rng.random() < 0.65  # the box-filling stretch, or the digit's own aspect
    aspect = rng.uniform(0.5, 0.85) if stretched else w / h
    width = int(np.clip(round(height * aspect), 2, 32))
    if w > h and not stretched:  # a wide digit keeps its width within the cell
        width, height = 32, int(np.clip(round(32 * h / w), 2, 32))
    cell = np.zeros((32, 32), np.float32)
    big = np.asarray(Image.fromarray(crop).resize((width, height), Image.Resampling.BILINEAR), np.float32)
    big = big / max(float(big.max()), 1e-6)
    if rng.random() < 0.5:
        big = _dilate(big)
    if rng.random() < 0.8:
        big = (big > rng.uniform(0.3, 0.6)).astype(np.float32)
    top, left = int(rng.integers(0, 33 - height)), int(rng.integers(0, 33 - width))
    cell[top:top + height, left:left + width] = big
    side = int(rng.choice(CELLS, p=CELL_P))
    f = 32 // side
    ink = cell.reshape(side, f, side, f).mean(axis=(1, 3))
    if rng.random() < 0.15:  # a light-on-dark export now and then: preprocessing finds the polarity
        return np.round(255 * ink).astype(np.uint8)
    return np.round(255 * (1 - ink)).astype(np.uint8)


def _prepare(image: np.ndarray):
    from mnist_core.handwriting import preprocess

    a = preprocess.analyse(image, keep_steps=False)
    return None if a.reason else preprocess.render(a, a.kept).x[:, :, 0]


def prepare_all(images: list, workers: int = 2) -> list:
    """Each image through the product's preprocessing (None where it finds no digit), in worker processes."""
    if workers <= 1 or len(images) < 64:
        return [_prepare(im) for im in images]
    from mnist_core.processes import forkserver_context, no_main_script

    with ProcessPoolExecutor(workers, mp_context=forkserver_context()) as pool:
        with no_main_script():  # map submits every chunk, starting the workers
            chunks = pool.map(_prepare, images, chunksize=64)
        return list(chunks)


def styled(x: np.ndarray, y: np.ndarray, n: int, seed: int = 0, workers: int = 2) -> tuple:
    """n MNIST digits (drawn with replacement from x, y) re-captured as scans and preprocessed: (x, y).

    Cached on disk by the inputs' checksum, n, seed and STYLE_VERSION (minutes of CPU otherwise)."""
    key = hashlib.sha256(np.ascontiguousarray(x).tobytes()[:1 << 20] + y.tobytes()
                         + f"{n}-{seed}-{STYLE_VERSION}".encode()).hexdigest()[:16]
    path = cache_dir() / f"scan-{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["x"], z["y"]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(x), n)
    images = [scan(x[i], rng) for i in pick]
    prepared = prepare_all(images, workers)
    keep = [i for i, p in enumerate(prepared) if p is not None]
    out_x = np.stack([prepared[i] for i in keep])[..., None].astype(np.float32)
    out_y = y[pick[keep]].astype(np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")  # two test workers may draw the same set at once
    np.savez_compressed(tmp, x=out_x, y=out_y)
    tmp.replace(path)
    return out_x, out_y
