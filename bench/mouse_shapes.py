"""Shapes as a person draws them with a mouse on the Draw page's canvas: a second, separate hand.

Nothing here comes from the training generator (mnist_core/data/shapes.py):
its own outlines, drawn the way a mouse user moves (key points joined by
bowed sides, a slower hand at corners), its own jitter (corner and bow
noise, a damped random-walk tremor, a closed shape's start missed by a gap
or an overshoot, integer mouse positions at a varying speed) and its own
sizes, rotations and places on the 640x280 canvas.

mouse_strokes(cls, seed) gives the strokes as lists of (x, y) canvas
pixels, which the browser test (tests/browser/test_draw_shapes.py) moves the
mouse through; render(strokes, pen) draws them the way the canvas draws a
freehand path (round caps and joins, anti-aliased, white on a transparent
layer, through the same curve as the canvas's freehand brush), for
bench/shapes_drawn.py.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

CANVAS = (640, 280)  # the Draw page's canvas, in CSS pixels
MARGIN = 8
CLASSES = ("ellipse", "rectangle", "triangle", "star", "line", "arrow", "heart", "cross", "pentagon")


def _rot(theta: float) -> np.ndarray:
    return np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


def _polygon_path(corners: np.ndarray, rng, bow: float = 0.035) -> np.ndarray:
    """A closed polygon from a random corner in a random direction: each side slightly bowed, the hand slower
    near the corners, the end short of the start (a gap) or past it along the first side (an overshoot)."""
    if rng.random() < 0.5:
        corners = corners[::-1]
    corners = np.roll(corners, -int(rng.integers(len(corners))), axis=0)
    closure = rng.uniform(-0.12, 0.25)  # as a share of a side
    sides = list(zip(corners, np.roll(corners, -1, axis=0)))
    if closure > 0:
        sides.append((corners[0], corners[0] + closure * (corners[1] - corners[0])))
    pts = []
    for i, (a, b) in enumerate(sides):
        side = b - a
        normal = np.array([-side[1], side[0]])
        u = 0.5 - 0.5 * np.cos(np.linspace(0, math.pi, 24))  # dense at both ends: the hand slows at a corner
        if closure < 0 and i == len(corners) - 1:
            u = u * (1 + closure)
        pts.append(a + u[:, None] * side + (rng.normal(0, bow) * np.sin(math.pi * u))[:, None] * normal)
    return np.vstack(pts)


def _ellipse(rng) -> list:
    aspect = rng.uniform(0.45, 1.0)
    sweep = rng.uniform(0.95, 1.12) * 2 * math.pi * (1 if rng.random() < 0.5 else -1)
    t = rng.uniform(0, 2 * math.pi) + np.linspace(0, sweep, 90)
    r = 1 + np.linspace(0, rng.uniform(-0.1, 0.1), len(t))
    return [np.column_stack([r * np.cos(t), aspect * r * np.sin(t)])]


def _rectangle(rng) -> list:
    h = rng.uniform(0.4, 1.0)
    c = np.array([[-1, -h], [1, -h], [1, h], [-1, h]]) + rng.normal(0, 0.04, (4, 2))
    return [_polygon_path(c, rng)]


def _triangle(rng) -> list:
    while True:
        a = np.sort(rng.uniform(0, 2 * math.pi, 3))
        c = np.column_stack([np.cos(a), np.sin(a)]) * rng.uniform(0.8, 1.1, (3, 1))
        angles = []
        for i in range(3):
            u, v = c[i - 1] - c[i], c[(i + 1) % 3] - c[i]
            angles.append(math.degrees(math.acos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))
        if min(angles) > 28:
            return [_polygon_path(c, rng)]


def _regular(n: int, rng) -> np.ndarray:
    a = rng.uniform(0, 2 * math.pi) + np.arange(n) * 2 * math.pi / n + rng.normal(0, 0.06, n)
    return np.column_stack([np.cos(a), np.sin(a)]) * rng.uniform(0.9, 1.1, (n, 1))


def _pentagon(rng) -> list:
    return [_polygon_path(_regular(5, rng), rng, bow=0.03)]


def _star(rng) -> list:
    """The five-pointed star most people draw: one stroke from point to point (a pentagram)."""
    return [_polygon_path(_regular(5, rng)[[0, 2, 4, 1, 3]], rng, bow=0.02)]


def _line(rng) -> list:
    t = np.linspace(-1, 1, 40)
    return [np.column_stack([t, rng.normal(0, 0.06) * (1 - t ** 2)])]


def _arrow(rng) -> list:
    head, spread = rng.uniform(0.3, 0.55), math.radians(rng.uniform(25, 45))
    tip = np.array([1.0, 0.0])
    wings = [tip + head * np.array([-math.cos(spread), s * math.sin(spread)]) for s in (1, -1)]
    shaft = np.column_stack([np.linspace(-1, 1, 40), rng.normal(0, 0.04) * np.sin(np.linspace(0, math.pi, 40))])
    v = np.array([np.linspace(wings[0], tip, 12), np.linspace(tip, wings[1], 12)]).reshape(-1, 2)
    if rng.random() < 0.5:
        return [shaft, v]  # the shaft, then the head as a V
    return [np.vstack([shaft, np.linspace(tip, wings[0], 12), np.linspace(wings[0], tip, 12)[1:],
                       np.linspace(tip, wings[1], 12)[1:]])]  # one stroke: up a wing and back, then the other


def _heart(rng) -> list:
    """Two round lobes meeting at a notch, sides running down to a point: as two halves or one stroke."""
    r, depth, sweep = rng.uniform(0.45, 0.55), rng.uniform(0.9, 1.3), math.pi * rng.uniform(1.15, 1.3)
    a = np.linspace(0, sweep, 30)
    halves = []
    for s in (-1, 1):  # from the notch at (0, 0) over the lobe (centre (s r, 0)), then down to the tip
        arc = np.column_stack([s * r * (1 - np.cos(a)), -r * np.sin(a)])
        halves.append(np.vstack([arc, np.linspace(arc[-1], [0.0, depth], 20)[1:]]))
    if rng.random() < 0.5:
        return halves
    return [np.vstack([halves[0], halves[1][::-1][1:]])]


def _cross(rng) -> list:
    a = math.radians(rng.uniform(75, 105))
    first = np.array([[-1.0, 0.0], [1.0, 0.0]])
    second = (_rot(a) @ first.T).T + rng.normal(0, 0.08, 2)
    return [np.linspace(*first, 30), np.linspace(*second, 30)]


OUTLINES = {"ellipse": _ellipse, "rectangle": _rectangle, "triangle": _triangle, "star": _star, "line": _line,
            "arrow": _arrow, "heart": _heart, "cross": _cross, "pentagon": _pentagon}
UPRIGHT = {"heart": 20, "rectangle": 15}  # drawn near upright (degrees either way); the others at any angle


def _tremor(n: int, rng, scale: float) -> np.ndarray:
    """A damped random walk: the hand drifts off the line and comes back."""
    out, v = np.zeros((n, 2)), np.zeros(2)
    for i in range(1, n):
        v = 0.8 * v + rng.normal(0, scale, 2)
        out[i] = 0.9 * out[i - 1] + v
    return out


def _mouse(path: np.ndarray, rng) -> np.ndarray:
    """Mouse events along a path in pixels: integer positions, a varying distance apart, no repeats."""
    step = rng.uniform(3, 9)
    seg = np.r_[0, np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))]
    u = np.sort(np.r_[0, seg[-1], np.cumsum(rng.uniform(0.5, 1.5, int(seg[-1] / step) + 2) * step)])
    u = u[u <= seg[-1]]
    pts = np.rint(np.column_stack([np.interp(u, seg, path[:, 0]), np.interp(u, seg, path[:, 1])])).astype(int)
    keep = np.r_[True, np.any(np.diff(pts, axis=0) != 0, axis=1)]
    return pts[keep]


def mouse_strokes(cls: str, seed: int) -> list:
    """Drawing `seed` of `cls`: strokes as lists of (x, y) integer canvas pixels, inside the canvas."""
    rng = np.random.default_rng([20240, CLASSES.index(cls), seed])
    strokes = OUTLINES[cls](rng)
    limit = UPRIGHT.get(cls, 180)
    m = _rot(math.radians(rng.uniform(-limit, limit))) @ np.diag([rng.uniform(0.8, 1.25), 1.0])
    strokes = [s @ m.T for s in strokes]
    pts = np.vstack(strokes)
    lo, hi = pts.min(0), pts.max(0)
    w, h = CANVAS[0] - 2 * MARGIN, CANVAS[1] - 2 * MARGIN
    size = rng.uniform(0.35, 0.9) * h  # the drawing's longer side, in pixels: small to nearly the canvas height
    scale = size / max(float((hi - lo).max()), 1e-6)
    room = np.array([w, h]) - (hi - lo) * scale
    corner = MARGIN + rng.uniform(0, 1, 2) * np.maximum(room, 0)
    out = []
    for s in strokes:
        px = (s - lo) * scale + corner
        px = px + _tremor(len(px), rng, rng.uniform(0.05, 0.6))
        px = np.clip(px, MARGIN, np.array(CANVAS) - MARGIN)
        out.append([(int(x), int(y)) for x, y in _mouse(px, rng)])
    return out


def canvas_path(stroke: list, samples: int = 8) -> np.ndarray:
    """The line the canvas draws through a stroke's mouse points, as its freehand brush (fabric.js
    PencilBrush) builds it: from the first point, a quadratic curve to each midpoint of two successive
    points with the first of them as control point, then straight to the last point."""
    p = np.asarray(stroke, float)
    if len(p) < 3:
        return p
    t = np.linspace(0, 1, samples, endpoint=False)[1:, None]
    out = [p[:1]]
    start = p[0]
    for i in range(len(p) - 1):
        ctrl, end = p[i], (p[i] + p[i + 1]) / 2
        out.append((1 - t) ** 2 * start + 2 * (1 - t) * t * ctrl + t ** 2 * end)
        out.append(end[None])
        start = end
    out.append(p[-1:])
    return np.vstack(out)


def render(strokes: list, pen: float = 18, supersample: int = 4) -> np.ndarray:
    """The canvas's drawing layer as the page receives it: (280, 640, 4) uint8, each stroke's canvas_path in
    white with round caps and joins on a transparent background, anti-aliased (drawn 4x larger, averaged down)."""
    s = supersample
    im = Image.new("L", (CANVAS[0] * s, CANVAS[1] * s), 0)
    d = ImageDraw.Draw(im)
    r = pen * s / 2
    for stroke in strokes:
        xy = [(x * s, y * s) for x, y in canvas_path(stroke)]
        if len(xy) > 1:
            d.line(xy, fill=255, width=int(round(pen * s)))
        for x, y in xy:
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    alpha = np.asarray(im.resize(CANVAS, Image.Resampling.BOX))
    out = np.zeros((CANVAS[1], CANVAS[0], 4), np.uint8)
    out[..., :3] = 255
    out[..., 3] = alpha
    return out
