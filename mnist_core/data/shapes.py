"""Hand-drawn geometric shapes, generated from seeded strokes (no download).

Each drawing imitates a hurried hand on a canvas: a shape's outline as one or
more pen strokes, then the hand's faults, every one randomised widely because
real drawings by many people vary far more than any one generator:

- the whole shape: rotation, aspect ratio, shear, size, position, canvas size;
- each stroke: a slow wobble across it and a fast tremor, corners rounded
  (cut short at speed) or drawn as separate strokes that cross or stop short,
  a closed outline that overshoots its start or leaves a gap, sometimes a
  second loop or a retraced stroke, uneven pressure along it;
- the pen: from a hairline to a marker or a finger (a quarter of the drawing's
  size), white on black (the Draw page) or dark ink on noisy paper (a photo).

Every canvas goes through the same preprocessing as real drawings
(handwriting/preprocess.py: analyse, then render), so a generated shape and a
drawn one reach the model in one MNIST form: 28x28, white on black, the long
side fitted to 20 px and centred by mass.

Splits are fixed: each drawing's randomness comes from (split seed, index), so
a split is the same on every machine and any drawing can be redrawn alone.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mnist_core import paths
from mnist_core.data.mnist import Splits
from mnist_core.errors import UserError
from mnist_core.tasks import SHAPE_CLASSES

GENERATOR_VERSION = 3  # 2: corners rounded less; 3: pens up to a quarter of the size, thinner triangles
CLASSES = SHAPE_CLASSES  # the task owns its class names (tasks.py); drawn here in this order
SPLIT_SEEDS = {"train": 1301, "validation": 1302, "test": 1303}
SPLIT_SIZES = {"train": 800, "validation": 100, "test": 150}  # drawings per class


class ShapesSizesError(UserError, ValueError):
    """MNIST_STUDIO_SHAPES_SIZES that cannot be read; the message shows the form it takes."""


def sizes_from_env() -> dict:
    """MNIST_STUDIO_SHAPES_SIZES="train=20,validation=5,test=5": smaller splits for tests and quick trials."""
    text = os.environ.get("MNIST_STUDIO_SHAPES_SIZES", "").strip()
    if not text:
        return {}
    try:
        sizes = {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))}
    except ValueError:
        raise ShapesSizesError(f"MNIST_STUDIO_SHAPES_SIZES must look like 'train=20,validation=5,test=5', got {text!r}") from None
    if not set(sizes) <= set(SPLIT_SIZES) or min(sizes.values()) < 1:
        raise ShapesSizesError(f"MNIST_STUDIO_SHAPES_SIZES: splits are {', '.join(SPLIT_SIZES)}, each at least 1; got {text!r}")
    return sizes


def cache_dir() -> Path:
    return Path(os.environ.get("MNIST_STUDIO_SHAPES_CACHE", paths.REPO_ROOT / "data" / "shapes-cache"))


# --- outlines: lists of strokes, each an (N, 2) array in a unit box around the origin (y down) --------------

def _poly(points, closed: bool) -> np.ndarray:
    p = np.asarray(points, float)
    return np.vstack([p, p[:1]]) if closed else p


def _regular(n: int, rng, radius_jitter: float = 0.12) -> np.ndarray:
    start = rng.uniform(0, 2 * math.pi)
    a = start + np.arange(n) * 2 * math.pi / n + rng.normal(0, 0.08, n)
    r = 1 + rng.uniform(-radius_jitter, radius_jitter, n)
    return np.column_stack([r * np.cos(a), r * np.sin(a)])


def _closed_polygon(corners: np.ndarray, rng) -> list:
    """A polygon drawn as one stroke from a random corner, or as separate sides (the corners then
    cross or stop short), or as two strokes meeting at opposite corners."""
    n = len(corners)
    k = int(rng.integers(n))
    corners = np.roll(corners, -k, axis=0)
    if rng.random() < 0.5:
        corners = corners[::-1]
    mode = rng.random()
    if mode < 0.55:
        return [_poly(corners, True)]
    if mode < 0.8:
        sides = []
        for i in range(n):
            a, b = corners[i], corners[(i + 1) % n]
            d = b - a
            sides.append(np.array([a - d * rng.uniform(-0.08, 0.15), b + d * rng.uniform(-0.08, 0.15)]))
        return sides
    half = n // 2 + int(rng.integers(0, 2)) if n > 3 else 2
    ring = np.vstack([corners, corners[:1]])
    return [ring[:half + 1], ring[half:]]


def ellipse(rng) -> list:
    aspect = rng.uniform(0.35, 1.0) if rng.random() < 0.7 else rng.uniform(0.85, 1.0)
    turns = 1 + (rng.uniform(0.3, 1.0) if rng.random() < 0.15 else rng.uniform(-0.06, 0.15))
    t0 = rng.uniform(0, 2 * math.pi)
    t = t0 + np.linspace(0, 2 * math.pi * turns, 120) * (1 if rng.random() < 0.5 else -1)
    r = 1 + rng.uniform(-0.12, 0.12) * np.linspace(0, 1, len(t))  # a spiral: the end misses the start
    egg = 1 + rng.uniform(-0.15, 0.15) * np.cos(t)  # one end fatter than the other
    return [np.column_stack([r * np.cos(t) * egg, aspect * r * np.sin(t)])]


def rectangle(rng) -> list:
    aspect = rng.uniform(0.3, 1.0) if rng.random() < 0.65 else rng.uniform(0.85, 1.0)
    c = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]], float)
    c += rng.normal(0, 0.06, c.shape)
    return _closed_polygon(c, rng)


def triangle(rng) -> list:
    while True:
        kind = rng.random()
        if kind < 0.35:  # equilateral-ish
            c = _regular(3, rng, 0.1)
        elif kind < 0.6:  # right-angled
            w, h = rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0)
            c = np.array([[-w, h], [w, h], [-w, -h]]) if rng.random() < 0.5 else np.array([[-w, h], [w, h], [w, -h]])
        else:  # any, upright base
            apex = rng.uniform(-0.9, 0.9)
            c = np.array([[-1, 0.6], [1, 0.6], [apex, 0.6 - rng.uniform(0.35, 1.8)]])
        c = c + rng.normal(0, 0.05, c.shape)
        if _min_angle(c) > 12:  # thinner is a line or an arrowhead to most eyes
            return _closed_polygon(c, rng)


def _min_angle(c: np.ndarray) -> float:
    out = []
    for i in range(len(c)):
        a, b = c[i - 1] - c[i], c[(i + 1) % len(c)] - c[i]
        cos = a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9)
        out.append(math.degrees(math.acos(np.clip(cos, -1, 1))))
    return min(out)


def pentagon(rng) -> list:
    return _closed_polygon(_regular(5, rng, 0.1), rng)


def star(rng) -> list:
    outer = _regular(5, rng, 0.1)
    if rng.random() < 0.6:  # a pentagram in one stroke, as most people draw a star
        order = outer[[0, 2, 4, 1, 3]]
        return [_poly(order, True)] if rng.random() < 0.8 else [_poly(order, False)[:4], order[3:].tolist() + [order[0]]]
    inner_r = rng.uniform(0.3, 0.55)
    a = np.arctan2(outer[:, 1], outer[:, 0]) + math.pi / 5
    inner = np.column_stack([inner_r * np.cos(a), inner_r * np.sin(a)])
    pts = np.empty((10, 2))
    pts[0::2], pts[1::2] = outer, inner
    return [_poly(pts, True)]


def line(rng) -> list:
    bend = rng.normal(0, 0.12)
    t = np.linspace(-1, 1, 30)
    p = np.column_stack([t, bend * (1 - t ** 2)])
    if rng.random() < 0.2:  # a hook where the pen landed or lifted
        p = np.vstack([p, p[-1] + np.array([rng.uniform(-0.1, 0), rng.choice([-1, 1]) * rng.uniform(0.03, 0.1)])])
    return [p]


def arrow(rng) -> list:
    head = rng.uniform(0.35, 0.8)
    spread = math.radians(rng.uniform(22, 50))
    tip = np.array([1.0, 0.0])
    wing = [tip + head * np.array([-math.cos(spread), s * math.sin(spread)]) for s in (-1, 1)]
    shaft = np.column_stack([np.linspace(-1, 1, 20), rng.normal(0, 0.05) * np.sin(np.linspace(0, np.pi, 20))])
    mode = rng.random()
    if mode < 0.45:
        return [shaft, np.array([wing[0], tip, wing[1]])]
    if mode < 0.7:
        return [shaft, np.array([tip, wing[0]]), np.array([tip, wing[1]])]
    if mode < 0.85:  # one stroke: along the shaft, then back up one wing, round to the other
        return [np.vstack([shaft, wing[0], tip, wing[1]])]
    return [shaft[:-3], _poly([wing[0], tip, wing[1]], True)]  # a closed head


def heart(rng) -> list:
    t = np.linspace(0, 2 * math.pi, 140)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - rng.uniform(3, 6) * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    p = np.column_stack([x, y]) / 16
    p[:, 0] *= rng.uniform(0.8, 1.25)
    if rng.random() < 0.5:  # two halves from the notch to the tip
        return [p[:71], p[70:][::-1] if rng.random() < 0.5 else p[70:]]
    return [np.roll(p[:-1], int(rng.integers(0, 139)), axis=0) if rng.random() < 0.3 else p]


def cross(rng) -> list:
    a, b = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
    cx, cy = rng.uniform(-0.25, 0.25) * a, rng.uniform(-0.25, 0.25) * b
    angle = math.radians(rng.uniform(70, 110))
    first = np.array([[-a, 0], [a, 0]])
    second = np.array([[cx - b * math.cos(angle), -b * math.sin(angle)], [cx + b * math.cos(angle), b * math.sin(angle)]])
    second[:, 1] += cy
    return [first, second] if rng.random() < 0.5 else [second, first]


OUTLINES = {"ellipse": ellipse, "rectangle": rectangle, "triangle": triangle, "star": star, "line": line,
            "arrow": arrow, "heart": heart, "cross": cross, "pentagon": pentagon}
UPRIGHT = {"heart": 35}  # classes people draw upright: rotation limit in degrees (others: any rotation)
# Rounding a corner more than this (samples of 0.02 units averaged) makes another shape: a pentagon an ellipse,
# an arrow a line.
ROUNDING = (0, 0, 2, 4, 6, 9)
ROUND_CAP = {"arrow": 3, "pentagon": 4, "star": 6, "triangle": 6, "rectangle": 6}
# The widest pen, as a share of the shape's narrowest width (a thin triangle's height, an arrowhead's span).
PEN_ROOM = dict.fromkeys(("ellipse", "rectangle", "triangle", "star", "arrow", "heart", "pentagon"), 0.4)


# --- the hand ---------------------------------------------------------------------------------------------------

def _resample(p: np.ndarray, step: float) -> np.ndarray:
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.r_[0, np.cumsum(seg)]
    if s[-1] < 1e-9:
        return p[:1]
    n = max(2, int(s[-1] / step) + 1)
    u = np.linspace(0, s[-1], n)
    return np.column_stack([np.interp(u, s, p[:, 0]), np.interp(u, s, p[:, 1])])


def _round_corners(p: np.ndarray, amount: int) -> np.ndarray:
    """A moving average along the stroke: a hurried pen cuts corners."""
    if amount < 2 or len(p) < 2 * amount:
        return p
    k = np.ones(amount) / amount
    pad = np.vstack([np.repeat(p[:1], amount, 0), p, np.repeat(p[-1:], amount, 0)])
    out = np.column_stack([np.convolve(pad[:, 0], k, "same"), np.convolve(pad[:, 1], k, "same")])[amount:-amount]
    out[0], out[-1] = p[0], p[-1]
    return out


def _smooth_noise(n: int, rng, scale: float, wavelength: float) -> np.ndarray:
    """Random (n, 2) offsets that drift smoothly along a stroke (a hand's slow wobble)."""
    knots = max(2, int(n / max(wavelength, 1)) + 2)
    k = rng.normal(0, scale, (knots, 2))
    u = np.linspace(0, knots - 1, n)
    return np.column_stack([np.interp(u, np.arange(knots), k[:, 0]), np.interp(u, np.arange(knots), k[:, 1])])


def _hand(strokes: list, rng, max_angle: float = 180, max_round: int = 99) -> list:
    """The outline as a hurried hand draws it: transformed, wobbly, corners rounded, closed shapes
    overshooting or falling short, sometimes retraced."""
    angle = math.radians(rng.uniform(-max_angle, max_angle))
    sx = rng.uniform(0.7, 1.3)
    shear = rng.normal(0, 0.12)
    m = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ \
        np.array([[sx, shear], [0, 1 / sx]])
    wobble, tremor = rng.uniform(0, 0.06), rng.uniform(0, 0.012)
    rounding = min(int(rng.choice(ROUNDING)), max_round)
    out = []
    for s in strokes:
        p = _resample(np.asarray(s, float), 0.02)
        closed = len(p) > 3 and np.linalg.norm(p[0] - p[-1]) < 0.05
        if closed and rng.random() < 0.85:  # the end misses the start: overshoot or gap
            extra = int(rng.uniform(-0.06, 0.12) * len(p))
            p = np.vstack([p, p[1:extra + 1]]) if extra > 0 else p[:len(p) + extra] if extra < 0 else p
        p = _round_corners(p, rounding)
        p = p + _smooth_noise(len(p), rng, wobble, rng.uniform(8, 40)) + rng.normal(0, tremor, p.shape)
        out.append(p @ m.T)
        if rng.random() < 0.08:  # a retraced stroke, never quite on the first
            out.append(out[-1] + _smooth_noise(len(p), rng, 0.03, 20) + rng.normal(0, 0.02, 2))
    return out


def draw_canvas(cls: str, rng: np.random.Generator) -> Image.Image:
    """One drawing of class `cls` on a canvas, as the Draw page or a photo would hand it over."""
    strokes = _hand(OUTLINES[cls](rng), rng, UPRIGHT.get(cls, 180), ROUND_CAP.get(cls, 99))
    w = int(rng.integers(140, 420))
    h = w if rng.random() < 0.6 else int(w * rng.uniform(0.6, 1.5))
    pts = np.vstack(strokes)
    lo, hi = pts.min(0), pts.max(0)
    size = rng.uniform(0.3, 0.85) * min(w, h)
    scale = size / max(float((hi - lo).max()), 1e-6)
    centre = np.array([w, h]) * 0.5 + rng.uniform(-0.5, 0.5, 2) * (np.array([w, h]) - (hi - lo) * scale) * 0.8
    thick = (0.1, 0.25) if cls in PEN_ROOM else (0.04, 0.1)  # a line or a cross stays 10 times longer than wide
    pen = size * rng.uniform(*rng.choice([(0.015, 0.04), (0.04, 0.1), thick], p=[0.4, 0.35, 0.25]))
    if cls in PEN_ROOM:  # never so wide that it fills the inside: a share of the shape's narrowest width
        a = np.linspace(0, math.pi, 36, endpoint=False)
        pen = min(pen, PEN_ROOM[cls] * scale * float(np.ptp(pts @ np.array([np.cos(a), np.sin(a)]), axis=0).min()))
    d = ImageDraw.Draw(im := Image.new("L", (w, h), 0))
    for s in strokes:
        _pen_stroke(d, (s - (lo + hi) / 2) * scale + centre, max(1.5, pen), rng)
    return _photo(im, rng) if rng.random() < 0.2 else im


def _pen_stroke(d: ImageDraw.ImageDraw, xy: np.ndarray, pen: float, rng) -> None:
    """Round dabs along the stroke; the pressure (width and brightness) rises and falls along it."""
    n = len(xy)
    pressure = 1 + _smooth_noise(n, rng, rng.uniform(0, 0.3), rng.uniform(10, 60))[:, 0]
    taper = np.minimum(1, np.minimum(np.arange(n), np.arange(n)[::-1]) / max(2, rng.uniform(1, 8))) * 0.4 + 0.6
    width = np.clip(pen * pressure * taper, 1, None)
    level = np.clip(255 * (0.75 + 0.25 * pressure), 120, 255).astype(int)
    dense = _resample(xy, max(0.5, pen / 4))
    idx = np.minimum((np.arange(len(dense)) * (n - 1) / max(len(dense) - 1, 1)).astype(int), n - 1)
    for (x, y), r, v in zip(dense, width[idx] / 2, level[idx]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=int(v))


def _photo(im: Image.Image, rng) -> Image.Image:
    """Dark ink on uneven light paper with sensor noise."""
    a = np.asarray(im, np.float32) / 255
    h, w = a.shape
    yy, xx = np.mgrid[:h, :w] / max(h, w)
    paper = rng.uniform(0.7, 0.95) - rng.uniform(0, 0.2) * (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))
    ink = rng.uniform(0.05, 0.35)
    g = paper * (1 - a) + ink * a + rng.normal(0, rng.uniform(0, 0.03), a.shape)
    return Image.fromarray(np.clip(g * 255, 0, 255).astype(np.uint8))


# --- into MNIST form -----------------------------------------------------------------------------------------------

def to_mnist_form(canvas: Image.Image) -> np.ndarray | None:
    """The canvas through the real drawings' preprocessing: (28, 28) float32 in [0, 1], None when nothing is found."""
    from mnist_core.handwriting.preprocess import analyse, render

    a = analyse(canvas, keep_steps=False)
    if a.reason or not a.kept:
        return None
    return render(a, a.kept).x[:, :, 0]


def drawing(cls: str, seed: int, index: int) -> np.ndarray:
    """Drawing `index` of a split seeded `seed`: the same (28, 28) array on every machine."""
    for attempt in range(20):
        rng = np.random.default_rng([seed, CLASSES.index(cls), index, attempt])
        x = to_mnist_form(draw_canvas(cls, rng))
        if x is not None and x.max() > 0:
            return x
    raise RuntimeError(f"no usable drawing of {cls} for seed {seed}, index {index}")


def generate(per_class: int, seed: int, classes=CLASSES, workers: int = 1) -> tuple:
    """(x (N, 28, 28, 1) float32 in [0, 1], y (N,) int32): per_class drawings of each class, classes interleaved.
    With workers > 1 the drawings are made in that many processes (the same drawings: each has its own seed)."""
    jobs = [(cls, seed, i) for i in range(per_class) for cls in classes]
    if workers > 1 and len(jobs) >= 200:
        import multiprocessing

        from mnist_core.processes import no_main_script

        with no_main_script(), multiprocessing.get_context("spawn").Pool(workers) as pool:
            xs = pool.starmap(drawing, jobs, chunksize=64)
    else:
        xs = [drawing(*job) for job in jobs]
    x = np.stack(xs)[..., None].astype(np.float32) if xs else np.zeros((0, 28, 28, 1), np.float32)
    return x, np.asarray([CLASSES.index(cls) for cls, _, _ in jobs], np.int32)


def checksum(*arrays) -> str:
    """sha256 of the arrays' bytes as 8-bit images and labels (stable across float noise-free runs)."""
    h = hashlib.sha256(f"shapes-v{GENERATOR_VERSION}".encode())
    for a in arrays:
        a = np.asarray(a)
        h.update((np.round(a * 255).astype(np.uint8) if a.dtype.kind == "f" else a.astype(np.int64)).tobytes())
    return h.hexdigest()


def load_splits(sizes: dict | None = None, cache: Path | None = None) -> Splits:
    """The fixed train/validation/test splits (drawings per class in `sizes`), cached on disk as .npz."""
    sizes = {**SPLIT_SIZES, **(sizes_from_env() if sizes is None else sizes)}
    arrays = [a for s in ("train", "validation", "test") for a in load_split(s, int(sizes[s]), cache)]
    return Splits(*arrays, sha256=checksum(*arrays), class_names=CLASSES, generator_version=GENERATOR_VERSION)


def load_split(split: str, per_class: int | None = None, cache: Path | None = None) -> tuple:
    """(x, y) of one fixed split (size: MNIST_STUDIO_SHAPES_SIZES, else SPLIT_SIZES), from its .npz cache."""
    per_class = per_class or {**SPLIT_SIZES, **sizes_from_env()}[split]
    path = Path(cache if cache is not None else cache_dir()) / f"shapes-v{GENERATOR_VERSION}-{split}-{per_class}.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                return z["x"].astype(np.float32) / 255, z["y"]
        except (OSError, ValueError, KeyError):
            pass  # a broken cache file is regenerated
    x, y = generate(per_class, SPLIT_SEEDS[split], workers=min(3, os.cpu_count() or 1))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: processes drawing the same split at once (pytest-xdist workers) never share a file.
        tmp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp.npz")
        np.savez_compressed(tmp, x=np.round(x * 255).astype(np.uint8), y=y)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only checkout still trains, it just regenerates
    return np.round(x * 255).astype(np.float32) / 255, y  # the same values a cache hit gives
