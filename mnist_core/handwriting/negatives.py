"""Generated drawings that hold no digit, to measure (never to train) the "not a digit" answer.

Each one imitates a drawing on the Draw page (white pen on a black canvas, a
pen width of 6 to 32 px) or, for a share of them, a photo (dark ink on light
paper): a dot, a line that is not a 1, a scribble, a letter that looks like no
digit, a shape, a texture. Letters and shapes that a person could take for a
digit (O, l, S, Z, B, g, a circle) are left out on purpose.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS = ("dot", "line", "scribble", "letter", "shape", "texture")
LETTERS = "AEFHKMNRWXYkmwx#@&%*=<>!"  # none of them reads as a digit to a person
# The same kind of letters written with a pen: strokes in a unit box (x right, y down).
PEN_LETTERS = {
    "A": [[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.25, 0.6), (0.75, 0.6)]],
    "E": [[(0.85, 0), (0.15, 0), (0.15, 1), (0.85, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0), (0.15, 0), (0.15, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "H": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.85, 1)], [(0.15, 0.5), (0.85, 0.5)]],
    "K": [[(0.2, 0), (0.2, 1)], [(0.85, 0), (0.2, 0.55)], [(0.4, 0.4), (0.85, 1)]],
    "M": [[(0.05, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.95, 1)]],
    "N": [[(0.15, 1), (0.15, 0), (0.85, 1), (0.85, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]],
    "Y": [[(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.5, 0.5), (0.5, 1)]],
    "#": [[(0.35, 0), (0.3, 1)], [(0.7, 0), (0.65, 1)], [(0.05, 0.35), (0.95, 0.35)], [(0.05, 0.7), (0.95, 0.7)]],
    "*": [[(0.5, 0), (0.5, 1)], [(0.1, 0.25), (0.9, 0.75)], [(0.9, 0.25), (0.1, 0.75)]],
    "=": [[(0.05, 0.35), (0.95, 0.35)], [(0.05, 0.7), (0.95, 0.7)]],
    "T": [[(0.05, 0), (0.95, 0)], [(0.5, 0), (0.5, 1)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]],
    "\u039b": [[(0.1, 1), (0.5, 0), (0.9, 1)]],  # a capital lambda: read as a 1 at 97% before it was here
    "L": [[(0.15, 0), (0.15, 1), (0.85, 1)]],
    "e": [[(0.1, 0.55), (0.9, 0.55), (0.8, 0.25), (0.5, 0.1), (0.2, 0.25), (0.1, 0.6), (0.3, 0.9), (0.6, 1),
           (0.9, 0.85)]],
    "m": [[(0.05, 1), (0.05, 0.3), (0.25, 0.2), (0.5, 0.35), (0.5, 1)], [(0.5, 0.35), (0.75, 0.2), (0.95, 0.35),
                                                                         (0.95, 1)]],
}
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf")


def generate(n: int, seed: int = 0, kinds=KINDS) -> list:
    """n drawings [(kind, PIL image)], the kinds in turn."""
    rng = np.random.default_rng(seed)
    return [(kinds[i % len(kinds)], draw(kinds[i % len(kinds)], rng)) for i in range(n)]


def draw(kind: str, rng: np.random.Generator) -> Image.Image:
    w, h = (280, 280) if rng.random() < 0.5 else (640, 280)
    im = Image.new("L", (w, h), 0)
    pen = int(rng.integers(6, 33))
    _DRAWERS[kind](ImageDraw.Draw(im), w, h, pen, rng)
    if rng.random() < 0.25:  # a photo: dark ink on light paper, a little noise
        a = 235 - np.asarray(im, np.float32) * 0.8 + rng.normal(0, 4, (h, w))
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return im


def _stroke(d: ImageDraw.ImageDraw, pts, pen: int) -> None:
    """A pen stroke through the points, with round ends and joints like the canvas' pen."""
    pts = [tuple(map(float, p)) for p in pts]
    d.line(pts, fill=255, width=pen, joint="curve")
    r = pen / 2
    for x, y in (pts[0], pts[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _dot(d, w, h, pen, rng) -> None:
    x, y = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
    r = pen / 2 * rng.uniform(1, 2.5)
    if rng.random() < 0.5:  # a short dab of the pen rather than a round blob (longer would be a 1)
        a = rng.uniform(0, math.pi)
        r = pen / 2 * rng.uniform(0.3, 1.0)
        _stroke(d, [(x, y), (x + r * math.cos(a), y + r * math.sin(a))], pen)
    else:
        d.ellipse((x - r, y - r * rng.uniform(0.7, 1.3), x + r, y + r), fill=255)


def _line(d, w, h, pen, rng) -> None:
    """Horizontal to 35 degrees from it (steeper lines are a 1), sometimes wavy."""
    a = math.radians(rng.uniform(-35, 35))
    length = rng.uniform(0.3, 0.9) * min(w, 2.5 * h)
    cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.2, 0.2) * h
    t = np.linspace(-0.5, 0.5, 24)
    wave = rng.uniform(0, 0.08) * length * np.sin(2 * math.pi * rng.uniform(0.5, 2) * t) if rng.random() < 0.4 else 0 * t
    xs = cx + t * length * math.cos(a) - wave * math.sin(a)
    ys = cy + t * length * math.sin(a) + wave * math.cos(a)
    _stroke(d, list(zip(xs, ys)), pen)


def _scribble(d, w, h, pen, rng) -> None:
    """A fast back-and-forth over much of the canvas: many turns, many crossings."""
    n = int(rng.integers(12, 40))
    cx, cy = rng.uniform(0.35, 0.65) * w, rng.uniform(0.35, 0.65) * h
    sx, sy = rng.uniform(0.2, 0.45) * w, rng.uniform(0.25, 0.45) * h
    pts = np.c_[cx + rng.uniform(-1, 1, n) * sx, cy + rng.uniform(-1, 1, n) * sy]
    _stroke(d, _smooth(pts), pen)


def _smooth(pts: np.ndarray, k: int = 6) -> list:
    """Catmull-Rom through the points: a hand's curve rather than a polygon."""
    out = []
    p = np.vstack([pts[:1], pts, pts[-1:]])
    for i in range(1, len(p) - 2):
        for t in np.linspace(0, 1, k, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(0.5 * (2 * p[i] + (-p[i - 1] + p[i + 1]) * t + (2 * p[i - 1] - 5 * p[i] + 4 * p[i + 1] - p[i + 2]) * t2
                              + (-p[i - 1] + 3 * p[i] - 3 * p[i + 1] + p[i + 2]) * t3))
    out.append(p[-2])
    return [tuple(q) for q in out]


def _letter(d, w, h, pen, rng) -> None:
    if rng.random() < 0.5:
        _pen_letter(d, w, h, pen, rng)
        return
    ch = LETTERS[int(rng.integers(len(LETTERS)))]
    size = int(rng.uniform(0.5, 0.85) * h)
    font = ImageFont.truetype(str(FONT_DIR / FONTS[int(rng.integers(len(FONTS)))]), size)
    glyph = Image.new("L", (2 * size, 2 * size), 0)
    ImageDraw.Draw(glyph).text((size // 2, size // 4), ch, fill=255, font=font,
                               stroke_width=int(rng.integers(0, max(1, pen // 4) + 1)), stroke_fill=255)
    glyph = glyph.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
    box = glyph.getbbox()
    if box:
        glyph = glyph.crop(box)
    x = int(rng.uniform(0.1, 0.9) * max(1, w - glyph.width))
    y = int(rng.uniform(0.1, 0.9) * max(1, h - glyph.height))
    d._image.paste(glyph, (x, y), glyph)


def _pen_letter(d, w, h, pen, rng) -> None:
    """A letter written with the pen: each point of its strokes moved a little, the whole slanted."""
    strokes = PEN_LETTERS[list(PEN_LETTERS)[int(rng.integers(len(PEN_LETTERS)))]]
    bh = rng.uniform(0.4, 0.8) * h
    bw = bh * rng.uniform(0.6, 1.1)
    x0, y0 = rng.uniform(0.05, 0.95) * (w - bw), rng.uniform(0.1, 0.9) * (h - bh)
    slant = rng.uniform(-0.25, 0.25)
    for stroke in strokes:
        pts = [(x0 + (u + slant * (1 - v) + rng.normal(0, 0.03)) * bw, y0 + (v + rng.normal(0, 0.03)) * bh)
               for u, v in stroke]
        _stroke(d, pts, pen)


def _shape(d, w, h, pen, rng) -> None:
    cx, cy, r = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2, rng.uniform(0.25, 0.42) * h
    kind = rng.choice(["triangle", "square", "star", "heart", "arrow", "spiral", "house", "plus-circle"])
    rot = rng.uniform(-0.3, 0.3)

    def poly(angles, radii):
        return [(cx + q * math.cos(a + rot), cy + q * math.sin(a + rot)) for a, q in zip(angles, radii)]

    if kind == "triangle":
        pts = poly(np.linspace(-math.pi / 2, 1.5 * math.pi, 4), [r] * 4)
    elif kind == "square":
        pts = poly(np.linspace(math.pi / 4, 2.25 * math.pi, 5), [r * 1.2] * 5)
    elif kind == "star":
        pts = poly(np.linspace(-math.pi / 2, 1.5 * math.pi, 11), [r, r * 0.4] * 5 + [r])
    elif kind == "heart":
        t = np.linspace(0, 2 * math.pi, 40)
        pts = list(zip(cx + r / 17 * 16 * np.sin(t) ** 3,
                       cy - r / 17 * (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))))
    elif kind == "arrow":
        _stroke(d, [(cx - 1.6 * r, cy), (cx + 1.6 * r, cy)], pen)
        pts = [(cx + 0.9 * r, cy - 0.6 * r), (cx + 1.6 * r, cy), (cx + 0.9 * r, cy + 0.6 * r)]
    elif kind == "spiral":
        t = np.linspace(0, rng.uniform(3, 5) * math.pi, 80)
        pts = list(zip(cx + r * t / t[-1] * np.cos(t), cy + r * t / t[-1] * np.sin(t)))
    elif kind == "house":
        pts = [(cx - r, cy + r), (cx - r, cy), (cx, cy - r), (cx + r, cy), (cx + r, cy + r), (cx - r, cy + r),
               (cx + r, cy), (cx - r, cy), (cx + r, cy + r)]
    else:  # a circle crossed by a plus: a circle alone would be a 0
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=pen)
        _stroke(d, [(cx - 1.3 * r, cy), (cx + 1.3 * r, cy)], pen)
        pts = [(cx, cy - 1.3 * r), (cx, cy + 1.3 * r)]
    _stroke(d, pts, pen)


def _texture(d, w, h, pen, rng) -> None:
    kind = rng.choice(["hatch", "grid", "dots", "waves"])
    pen = max(3, pen // 2)
    step = int(rng.integers(3, 6)) * pen
    if kind in ("hatch", "grid"):
        a = rng.uniform(0, math.pi)
        for off in range(-max(w, h), max(w, h), step):
            c, s = math.cos(a), math.sin(a)
            d.line([(w / 2 + off * s - 2 * w * c, h / 2 - off * c - 2 * w * s),
                    (w / 2 + off * s + 2 * w * c, h / 2 - off * c + 2 * w * s)], fill=255, width=pen)
            if kind == "grid":
                d.line([(w / 2 + off * c - 2 * w * s, h / 2 + off * s + 2 * w * c),
                        (w / 2 + off * c + 2 * w * s, h / 2 + off * s - 2 * w * c)], fill=255, width=pen)
    elif kind == "dots":
        for _ in range(int(rng.integers(20, 80))):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), pen / 2
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    else:
        for y0 in range(step // 2, h, step):
            xs = np.linspace(0, w, 40)
            _stroke(d, list(zip(xs, y0 + pen * np.sin(xs / rng.uniform(10, 30)))), pen)


_DRAWERS = {"dot": _dot, "line": _line, "scribble": _scribble, "letter": _letter, "shape": _shape,
            "texture": _texture}
