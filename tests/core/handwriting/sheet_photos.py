"""Filled-in collection sheets, photographed and scanned synthetically, for the sheet tests (core, app, browser).

A sheet made by `sheet` is filled with MNIST test digits (dark ink, each in
its box at a random size and place), then either photographed (a desk with
clutter around the page, perspective, rotation, a lighting gradient, blur,
sensor noise, phone JPEG) or scanned (flat, a slight skew, a given dpi).
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from mnist_core.handwriting import sheets

DPI = sheets.PRINT_DPI


@lru_cache(maxsize=1)
def mnist_test() -> tuple:
    from mnist_core.data.mnist import load_mnist

    m = load_mnist(allow_download=False)
    return m.x_test, m.y_test


def make_sheet(tmp: Path, **options) -> tuple[Image.Image, dict]:
    """Run `python -m mnist_core sheet --png` in-process; the page PNG and the layout it wrote."""
    from mnist_core.cli import main

    args = ["sheet", "--out", str(tmp / "sheet.pdf"), "--png"]
    for k, v in options.items():
        args += [f"--{k}", str(v)]
    assert main(args) == 0
    return Image.open(tmp / "sheet.png").convert("L"), json.loads((tmp / "sheet.layout.json").read_text())


def fill(page: Image.Image, layout: dict, boxes, seed: int = 0) -> tuple[Image.Image, dict]:
    """Write an MNIST digit of the box's label in each of `boxes` [(row, col)]: (filled page, {(row, col): digit
    image as written, uint8 dark on white, the box's size})."""
    x_test, y_test = mnist_test()
    rng = np.random.default_rng(seed)
    a = np.asarray(page).copy()
    W, H = page.size
    written = {}
    by_pos = {(b["row"], b["col"]): b for b in layout["boxes"]}
    for r, c in boxes:
        b = by_pos[(r, c)]
        label = int(b["label"])
        pick = rng.choice(np.flatnonzero(y_test == label))
        x0, y0 = int(round(b["x"] * W)), int(round(b["y"] * H))
        w, h = int(round(b["w"] * W)), int(round(b["h"] * H))
        size = int(min(w, h) * rng.uniform(0.85, 1.05))  # the 28x28 field; the digit is 20/28 of it
        digit = np.asarray(Image.fromarray(x_test[pick]).resize((size, size), Image.BILINEAR), np.float32) / 255
        ox = x0 + int(rng.integers(0, max(1, w - size + 1))) if size < w else x0 + (w - size) // 2
        oy = y0 + int(rng.integers(0, max(1, h - size + 1))) if size < h else y0 + (h - size) // 2
        ink = rng.uniform(20, 70)  # pen darkness
        region = a[max(oy, y0):min(oy + size, y0 + h), max(ox, x0):min(ox + size, x0 + w)].astype(np.float32)
        d = digit[max(oy, y0) - oy:max(oy, y0) - oy + region.shape[0], max(ox, x0) - ox:max(ox, x0) - ox + region.shape[1]]
        region = region * (1 - d) + ink * d
        a[max(oy, y0):max(oy, y0) + region.shape[0], max(ox, x0):max(ox, x0) + region.shape[1]] = region.astype(np.uint8)
        written[(r, c)] = a[y0:y0 + h, x0:x0 + w].copy()
    return Image.fromarray(a), written


def _clutter(desk: np.ndarray, rng) -> None:
    h, w = desk.shape[:2]
    for _ in range(25):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        kind = rng.integers(0, 3)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:
            cv2.rectangle(desk, (x, y), (x + int(rng.integers(40, 400)), y + int(rng.integers(20, 200))), colour, -1)
        elif kind == 1:
            cv2.line(desk, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), colour, int(rng.integers(3, 25)))
        else:
            cv2.putText(desk, "7 3 receipt 42", (x, y), cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(1, 4)), colour, 4)
    # An ArUco marker of another project's (id 230 is no sheet corner's): it must be ignored.
    other = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_250), 230, 160)
    desk[40:200, w - 220:w - 60] = other[..., None]


def photograph(page: Image.Image, seed: int = 0, angle: float = 12.0, tilt: float = 0.10, size=(2000, 2500),
               blur: float = 1.6, quality: int = 72, light: float = 0.5, cover=None, shift=(0, 0)) -> bytes:
    """A phone photo of `page` on a cluttered desk, as JPEG bytes.

    angle: rotation in degrees; tilt: perspective (how much nearer one side of the page is); light: how much
    darker the dim side is (0 none); cover: [(x, y, w, h)] page fractions hidden under a grey card (a thumb, a
    book); shift: (dx, dy) page fractions that move the page, to push a corner out of the picture."""
    rng = np.random.default_rng(seed)
    W, H = size
    desk = np.full((H, W, 3), (120, 105, 90), np.uint8)
    desk = (desk + 6 * rng.standard_normal(desk.shape, dtype=np.float32)).clip(0, 255).astype(np.uint8)
    _clutter(desk, rng)
    src = np.asarray(page.convert("RGB"))
    ph, pw = src.shape[:2]
    scale = 0.72 * min(W / pw, H / ph)
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64) - [pw / 2, ph / 2]
    corners *= scale
    corners[:, 0] *= 1 + tilt * corners[:, 1] / (ph * scale)  # the far (top) edge narrower: perspective
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    corners = corners @ rot.T + [W / 2 + shift[0] * W, H / 2 + shift[1] * H]
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), np.float32(corners))
    warped = cv2.warpPerspective(src, m, (W, H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (W, H))
    photo = np.where(mask[..., None] > 127, warped, desk).astype(np.float32)
    for x, y, w, h in cover or []:
        quad = np.float32([[x * pw, y * ph], [(x + w) * pw, y * ph], [(x + w) * pw, (y + h) * ph], [x * pw, (y + h) * ph]])
        pts = cv2.perspectiveTransform(quad[None], m)[0].astype(np.int32)
        cv2.fillConvexPoly(photo, pts, (150, 140, 130))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gradient = 1 - light * (0.6 * xx / W + 0.4 * yy / H)  # a lamp at the top left
    photo = photo * gradient[..., None] * np.array([1.0, 0.97, 0.9], np.float32)  # warm light
    photo = cv2.GaussianBlur(photo, (0, 0), blur) if blur else photo
    photo = (photo + 3 * rng.standard_normal(photo.shape, dtype=np.float32)).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def scan(page: Image.Image, dpi: int = 150, skew: float = 1.2, fmt: str = "PNG") -> bytes:
    """A flatbed scan of `page` at `dpi`: slightly skewed, a grey scanner lid around it."""
    w, h = page.size
    f = dpi / DPI
    small = page.resize((int(w * f), int(h * f)), Image.LANCZOS)
    pad = Image.new("L", (small.width + 40, small.height + 40), 235)
    pad.paste(small, (20, 20))
    rotated = pad.rotate(skew, resample=Image.BICUBIC, expand=False, fillcolor=235)
    buf = io.BytesIO()
    rotated.save(buf, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def correlation(cut: np.ndarray, written: np.ndarray) -> float:
    """How alike a cut box and the box as written are (ink vs ink, at the written box's size)."""
    a = 255 - np.asarray(Image.fromarray(cut).resize(written.shape[::-1], Image.BILINEAR), np.float32)
    b = 255 - written.astype(np.float32)
    m = 8  # the cut is inset from the border: compare the middle
    a, b = a[m:-m, m:-m] - a[m:-m, m:-m].mean(), b[m:-m, m:-m] - b[m:-m, m:-m].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-9))
