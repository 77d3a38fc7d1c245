"""Synthetic handwritten-looking digits drawn as pen strokes, for tests (no binary files committed)."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw


def _ellipse(cx, cy, rx, ry, n=28, start=0.0, end=2 * math.pi):
    return [(cx + rx * math.cos(start + (end - start) * i / n), cy + ry * math.sin(start + (end - start) * i / n))
            for i in range(n + 1)]


# Each digit is a list of strokes; a stroke is a polyline in a unit box (x right, y down).
STROKES = {
    0: [_ellipse(0.5, 0.5, 0.3, 0.45)],
    1: [[(0.35, 0.2), (0.55, 0.03), (0.55, 0.97)]],
    2: [[(0.2, 0.3), (0.3, 0.1), (0.5, 0.04), (0.7, 0.1), (0.8, 0.3), (0.7, 0.5), (0.2, 0.95), (0.85, 0.95)]],
    3: [[(0.2, 0.1), (0.5, 0.04), (0.8, 0.2), (0.75, 0.4), (0.5, 0.5), (0.8, 0.6), (0.8, 0.85), (0.5, 0.96),
         (0.2, 0.9)]],
    4: [[(0.5, 0.03), (0.12, 0.62), (0.9, 0.62)], [(0.68, 0.3), (0.68, 0.97)]],
    5: [[(0.8, 0.04), (0.3, 0.04), (0.25, 0.45), (0.5, 0.4), (0.75, 0.55), (0.78, 0.8), (0.5, 0.96), (0.2, 0.86)]],
    6: [[(0.7, 0.04), (0.4, 0.3), (0.25, 0.62), (0.3, 0.86), (0.5, 0.96), (0.7, 0.86), (0.75, 0.66), (0.55, 0.52),
         (0.3, 0.62)]],
    7: [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.96)]],
    8: [_ellipse(0.5, 0.26, 0.22, 0.22), _ellipse(0.5, 0.72, 0.27, 0.24)],
    9: [_ellipse(0.5, 0.3, 0.25, 0.24), [(0.75, 0.3), (0.7, 0.97)]],
}
# The same 4 and 5 written with strokes that do not touch: they must still be read as one digit.
BROKEN = {
    4: [[(0.45, 0.03), (0.1, 0.55), (0.9, 0.55)], [(0.65, 0.68), (0.65, 0.97)]],
    5: [[(0.35, 0.02), (0.85, 0.02)], [(0.3, 0.14), (0.25, 0.45), (0.5, 0.4), (0.75, 0.55), (0.78, 0.8),
                                       (0.5, 0.96), (0.2, 0.86)]],
}


def draw(canvas: Image.Image, digit: int, box: tuple, width: int, ink, strokes=None) -> Image.Image:
    """Draw `digit` into box (left, top, right, bottom) of canvas with a round pen of `width` px."""
    x0, y0, x1, y1 = box
    pen = ImageDraw.Draw(canvas)
    for stroke in (strokes or STROKES)[digit]:
        pts = [(x0 + u * (x1 - x0), y0 + v * (y1 - y0)) for u, v in stroke]
        pen.line(pts, fill=ink, width=width, joint="curve")
        r = width / 2
        for x, y in (pts[0], pts[-1]):  # round caps
            pen.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return canvas


def digit_image(digit: int, size: int = 200, width: int = 14, ink=20, paper=245, mode: str = "L",
                strokes=None) -> Image.Image:
    """A photo-like digit: dark ink on light paper, the digit about 70% of the height, a little off centre."""
    im = Image.new(mode, (size, size), paper)
    box = (size * 0.3, size * 0.12, size * 0.72, size * 0.82)
    return draw(im, digit, box, width, ink, strokes)


def number_image(digits, height: int = 160, width: int = 12, ink=0, paper=255) -> Image.Image:
    """Several digits side by side with a gap between them, left to right."""
    cell = int(height * 0.75)
    im = Image.new("L", (cell * len(digits) + height // 4, height), paper)
    for i, d in enumerate(digits):
        left = height // 8 + i * cell
        draw(im, d, (left + cell * 0.15, height * 0.15, left + cell * 0.8, height * 0.85), width, ink)
    return im


def encode(im: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def prepared(image):
    """The whole image as one digit, as reading.process_bytes renders it (Prepared, found=False when none)."""
    from mnist_core.handwriting import preprocess as pp

    a = pp.analyse(image)
    return pp.Prepared(None, False, a.reason, a.steps or []) if a.reason else pp.render(a, a.kept)


def split_digits(image) -> list:
    """One Prepared per digit, left to right, as reading.read_image splits a number; [] when there is no ink."""
    from mnist_core.handwriting import preprocess as pp

    a = pp.analyse(image)
    return [] if a.reason else [pp.render(a, group) for group in pp.group_columns(a.comps, a.kept)]


def template_net(scale: float = 40.0):
    """A NumpyNet that reads these synthetic digits by template matching: its
    weights are the preprocessed drawings themselves (unit norm), so tests get
    meaningful predictions without training anything."""
    import numpy as np

    from mnist_core.models.numpy_nets import NumpyNet

    templates = []
    for d in range(10):
        t = sum(prepared(digit_image(d, width=w)).x.ravel() for w in (8, 14, 22))
        templates.append(t / np.linalg.norm(t))
    net = NumpyNet((784, 10))
    net.weights[0] = (np.stack(templates, axis=1) * scale).astype(np.float32)
    net.biases[0] = np.zeros(10, np.float32)
    return net


def template_model():
    from mnist_core.models.loading import LoadedModel

    return LoadedModel("templates", {"name": "templates", "kind": "numpy_softmax"}, template_net(), "numpy")
