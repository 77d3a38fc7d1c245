"""Any image of a handwritten digit -> MNIST's format, keeping every intermediate step.

MNIST's recipe: the digit is cropped, size-normalised so its long side fits a
20x20 box (aspect kept, anti-aliased) and centred by centre of mass in 28x28,
white ink on black. Photos and drawings differ from that in polarity, lighting,
specks, position, size and pen width; each stage below removes one difference:

  decode (EXIF, bomb guard) -> grey (alpha, any mode) -> polarity -> background
  -> ink mask -> specks -> crop -> stroke width -> fit 20 px -> centre 28x28

The analysis runs on a copy whose long side is at most WORK pixels (fast, and
big enough to find the digit); the crop is then re-read from the full-resolution
grey image at DETAIL pixels, so a small digit in a large photo keeps its detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from mnist_core.handwriting import imageops as ops
from mnist_core.handwriting.decode import as_image
from mnist_core.handwriting.greyscale import grey_array, to_grey

WORK = 160  # long side of the analysis image
DETAIL = 80  # long side of the digit while its stroke width is normalised (4x the final 20)
FIT, FIELD = 20, 28
MIN_SIDE = 8
TINY = 40  # a long side under this (a scanned form's 8x8, 16x16 or 32x32 cell) is enlarged before analysis
TINY_TARGET = 112  # ... smoothly, to about this long side, with a margin of paper around it
SHADOW_DEPTH = 0.75  # the deepest shadow followed: paper down to a quarter of its brightest
MIN_CONTRAST = 0.08  # ink must darken the paper by 8% of the full range to count
STROKE_TARGET = 0.10  # MNIST: half-intensity stroke width / long side, median 0.097 (measured on 2000 digits)
STROKE_RANGE = (0.10, 0.15)  # thinner is thickened to STROKE_TARGET, bolder thinned to 0.15
NO_DIGIT = "no digit found"
MAX_COMPONENTS = 300  # ink components considered per image; beyond the largest few hundred it is dust
MAX_PIECES = 60  # more separate pieces of ink than this is texture or noise, not handwriting


@dataclass
class Prepared:
    """One digit in MNIST form: x is (28, 28, 1) float32 in [0, 1], white on black."""

    x: np.ndarray | None
    found: bool
    reason: str | None = None
    steps: list = field(default_factory=list)  # (title, 2-D uint8 image) per stage
    box: tuple | None = None  # (left, top, right, bottom) of the digit in the input image


def _u8(a: np.ndarray) -> np.ndarray:
    return (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)


def _fit(size: tuple, long_side: int) -> tuple:
    w, h = size
    s = long_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


@dataclass
class Analysis:
    """What the whole-image stages found; render() turns any group of its components into one digit."""

    grey: Image.Image  # full-resolution grey, mode L or F, 0 = black
    scale: tuple  # full-resolution pixels per analysis pixel, (x, y)
    steps: list | None  # None: the batch path, which shows no pictures
    dark_ink: bool = True
    background: np.ndarray | None = None  # paper (dark ink) or floor (light ink) at the analysis size
    comps: ops.Components | None = None
    kept: list = field(default_factory=list)
    reason: str | None = None
    enlarged: tuple = (1.0, 0.0)  # a tiny input's (factor, margin in input pixels): boxes map back through it


def _step(steps: list | None, title: str, picture) -> None:
    """Record a stage's picture; `picture` is a function so the batch path never renders it."""
    if steps is not None:
        steps.append((title, picture()))


def analyse(image, keep_steps: bool = True) -> Analysis:
    """Find the ink: grey, polarity, background, mask, specks (see the module docstring)."""
    im = as_image(image)
    grey = to_grey(im)
    if min(im.size) < MIN_SIDE:
        a = Analysis(grey, (1.0, 1.0), [] if keep_steps else None)
        _step(a.steps, "grey", lambda: _u8(grey_array(grey)))
        a.reason = f"image is too small ({im.size[0]}x{im.size[1]} pixels; a digit needs at least {MIN_SIDE}x{MIN_SIDE})"
        return a
    grey, enlarged = _enlarge_tiny(grey)
    small = grey.resize(_fit(grey.size, WORK), Image.Resampling.BOX, reducing_gap=3.0) \
        if max(grey.size) > WORK else grey
    g = grey_array(small)
    levels = np.asarray(small) if small.mode == "L" else None  # g's 8-bit levels: cheap order statistics
    a = Analysis(grey, (grey.size[0] / small.size[0], grey.size[1] / small.size[1]), [] if keep_steps else None,
                 enlarged=enlarged)
    _step(a.steps, "grey" if enlarged[0] == 1 else f"grey, enlarged {enlarged[0]:g}x", lambda: _u8(g))
    a.dark_ink, a.background = _lighting(g, levels)
    _step(a.steps, "ink made white" if a.dark_ink else "ink already white", lambda: _u8(1 - g if a.dark_ink else g))
    ink = _ink(g, a.background, a.dark_ink)
    _step(a.steps, "background removed", lambda: _u8(ink))
    mask, a.reason = _ink_mask(ink)
    if mask is None:
        return a
    _step(a.steps, "ink mask", lambda: _u8(mask))
    a.comps = ops.components(mask)
    a.kept = _drop_specks(a.comps)
    if len(a.kept) > MAX_PIECES:
        a.reason = f"{NO_DIGIT} (the ink is in {len(a.kept)} separate pieces: texture or noise, not handwriting)"
    _step(a.steps, "specks removed", lambda: _u8(a.comps.mask(a.kept)))
    return a


def _enlarge_tiny(grey: Image.Image) -> tuple:
    """A tiny image (a cell of a scanned form, 8 to 32 pixels) enlarged smoothly, with a margin of paper.

    Every later stage measures in pixels (3x3 means, windows of a fifth of the image, stroke
    widths); at 8x8 a stroke is one pixel and the digit touches the border, so the paper and
    the ink cannot be told apart. Bicubic enlargement keeps the grey levels that a block-averaged
    scan stores, and the margin gives the border-based estimates some paper to look at.
    Returns the image and (factor, margin in input pixels), to map boxes back."""
    w, h = grey.size
    if max(w, h) >= TINY:
        return grey, (1.0, 0.0)
    g = grey_array(grey)
    ring = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    margin = max(1, round(max(w, h) / 8))
    padded = np.pad(g, margin, constant_values=float(np.median(ring)))
    factor = max(2, round(TINY_TARGET / max(padded.shape)))
    big = Image.fromarray(padded.astype(np.float32), "F").resize(
        (padded.shape[1] * factor, padded.shape[0] * factor), Image.Resampling.BICUBIC)
    big = Image.fromarray(np.clip(np.asarray(big), 0, 1), "F")
    return big, (float(factor), float(margin))


def _dark_ink(g: np.ndarray, levels: np.ndarray | None = None) -> bool:
    """Ink lies on the side of the paper with the longer tail. The paper is
    the median of the image's border, which is paper in nearly every photo or
    drawing; the tails are extreme percentiles so a small digit still counts."""
    ring = np.concatenate([g[:2].ravel(), g[-2:].ravel(), g[:, :2].ravel(), g[:, -2:].ravel()])
    paper = ops.median(ring)
    lo, hi = ops.percentile(g, [0.1, 99.9], levels)
    return (paper - lo) >= (hi - paper)


def _lighting(g: np.ndarray, levels: np.ndarray | None = None) -> tuple:
    """Polarity, and a smooth estimate of the paper (shadows, gradients) from a
    64-px copy: a closing (opening for light ink) with a window of a fifth of
    the image wipes out the strokes but follows the lighting."""
    dark_ink = _dark_ink(g, levels)
    h, w = g.shape
    f = min(1.0, max(64 / max(w, h), 16 / min(w, h)))  # a narrow crop (a lone 1) keeps 16 px across
    tw, th = max(1, round(w * f)), max(1, round(h * f))
    small = np.asarray(Image.fromarray(g).resize((tw, th), Image.Resampling.BOX), np.float32)
    r = max(2, round(max(tw, th) / 10))
    # A stroke wider than the window (a bold digit cropped tight) would pass for
    # shadow; real shadows rarely take three quarters of the light, so the
    # estimate never falls more than SHADOW_DEPTH below the paper's own level.
    if dark_ink:
        bg = ops.closing(small, r)
        bg = np.maximum(bg, (1 - SHADOW_DEPTH) * float(ops.percentile(bg, 90)))
    else:
        bg = ops.opening(small, r)
        floor = float(ops.percentile(bg, 10))
        bg = np.minimum(bg, floor + SHADOW_DEPTH * (1 - floor))
    bg = ops.box_blur(bg, max(1, r // 2))
    return dark_ink, np.asarray(Image.fromarray(bg).resize((w, h), Image.Resampling.BILINEAR), np.float32)


def _ink(g: np.ndarray, background: np.ndarray, dark_ink: bool) -> np.ndarray:
    """Ink strength in [0, 1]. Dark ink is measured relative to the local paper
    brightness, so a digit in a shadow is as strong as one in the light."""
    if dark_ink:
        return np.clip((background - g) / np.maximum(background, 0.3), 0, 1)
    return np.clip(g - background, 0, 1)


def _ink_mask(ink: np.ndarray):
    """Where the ink is, judged on a 3x3 mean so that single noisy pixels and
    dithering dots never count as ink; None and a reason when there is none."""
    smooth = ops.mean3(ink)
    peak = float(smooth.max())
    # Noise from the whole image (right when ink is a minority), from its border
    # and from its least inky tenth (right for a tight crop, mostly ink).
    sample = smooth[::2, ::2]
    ordered = np.sort(sample, axis=None)  # one sort serves the sample's median and tenth percentile
    noise = min(_noise(sample, ordered), 2 * float(ops.percentile(sample, 10, ordered=ordered)),
                _noise(np.concatenate([smooth[:2].ravel(), smooth[-2:].ravel(), smooth[:, :2].ravel(),
                                       smooth[:, -2:].ravel()])))
    if peak < MIN_CONTRAST or peak < 5 * noise:
        return None, NO_DIGIT
    mask = smooth > max(0.35 * peak, 3 * noise)
    if np.count_nonzero(mask) / mask.size > 0.92:  # even a marker 1 cropped to its edges leaves some paper
        return None, f"{NO_DIGIT} (the image is mostly ink or noise)"
    return mask, None


def _noise(values: np.ndarray, ordered: np.ndarray | None = None) -> float:
    med = ops.median(values, ordered)
    return med + 1.4826 * ops.median(np.abs(values - med))


def _drop_specks(comps: ops.Components) -> list:
    """Keep big components, and smaller ones near kept ink: the detached bar
    of a 5 may sit a third of the digit's height away, a fragment of a broken
    hairline close by. Dust, JPEG noise and stray dots far from the ink go."""
    if not len(comps):
        return []
    area, box = comps.area, comps.bbox
    order = np.argsort(-area, kind="stable")[:MAX_COMPONENTS]  # past the largest few hundred: dust
    top = area[order[0]]
    b = box[order[0]]
    size = float(max(b[2] - b[0], b[3] - b[1]))
    reach = np.where(area >= 0.03 * top, 0.35 * size, max(2.0, 0.12 * size))  # pieces may stray, dots may not
    keep = np.zeros(len(area), bool)
    keep[order[area[order] >= 0.15 * top]] = True
    candidates = order[(area[order] < 0.15 * top) & (area[order] >= max(2, 0.005 * top))]
    while candidates.size:  # grow outwards: a chain of fragments joins link by link
        near = (_gaps(box[candidates], box[keep]) <= reach[candidates, None]).any(axis=1)
        if not near.any():
            break
        keep[candidates[near]] = True
        candidates = candidates[~near]
    return (np.flatnonzero(keep) + 1).tolist()  # component labels start at 1


def _gaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chessboard gaps between every box of a and every box of b (y0, x0, y1, x1)."""
    dy = np.maximum(0, np.maximum(a[:, None, 0] - b[None, :, 2], b[None, :, 0] - a[:, None, 2]))
    dx = np.maximum(0, np.maximum(a[:, None, 1] - b[None, :, 3], b[None, :, 1] - a[:, None, 3]))
    return np.maximum(dx, dy)


def group_columns(comps: ops.Components, labels: list) -> list[list]:
    """Merge components whose x-ranges overlap by half the narrower one (one
    sweep from left to right); groups with under a tenth of the largest
    group's ink (a broken stroke beside a digit) join their nearest neighbour."""
    groups = []  # [x0, x1, labels]
    for k in sorted(labels, key=lambda k: comps.bbox[k - 1, 1]):
        x0, x1 = int(comps.bbox[k - 1, 1]), int(comps.bbox[k - 1, 3])
        if groups:
            g0, g1, members = groups[-1]
            if min(g1, x1) - max(g0, x0) >= 0.5 * min(g1 - g0, x1 - x0):
                groups[-1] = [g0, max(g1, x1), members + [k]]
                continue
        groups.append([x0, x1, [k]])
    areas = [int(comps.area[np.asarray(g[2]) - 1].sum()) for g in groups]
    while len(groups) > 1 and min(areas) < 0.1 * max(areas):
        i = int(np.argmin(areas))
        centre = (groups[i][0] + groups[i][1]) / 2
        j = min((j for j in range(len(groups)) if j != i), key=lambda j: abs(sum(groups[j][:2]) / 2 - centre))
        (x0, x1, moved), area = groups.pop(i), areas.pop(i)
        j = j - 1 if j > i else j
        groups[j] = [min(groups[j][0], x0), max(groups[j][1], x1), groups[j][2] + moved]
        areas[j] += area
    return [g[2] for g in groups]


def render(a: Analysis, labels: list) -> Prepared:
    """Crop the chosen components from the full-resolution grey image, fix the
    stroke width, fit to 20 px and centre by mass in 28x28."""
    b = a.comps.bbox[np.asarray(labels) - 1]
    y0, x0, y1, x1 = int(b[:, 0].min()), int(b[:, 1].min()), int(b[:, 2].max()), int(b[:, 3].max())
    h, w = a.background.shape
    pad = max(2, round(0.1 * max(y1 - y0, x1 - x0)))
    crop = (max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad))
    sx, sy = a.scale
    f = DETAIL / max((y1 - y0) * sy, (x1 - x0) * sx)  # detail pixels per full-resolution pixel
    gw, gh = a.grey.size
    full_box = (crop[0] * sx, crop[1] * sy, min(gw, crop[2] * sx), min(gh, crop[3] * sy))
    size = (max(1, round((full_box[2] - full_box[0]) * f)), max(1, round((full_box[3] - full_box[1]) * f)))
    method = Image.Resampling.BOX if f < 1 else Image.Resampling.BILINEAR
    g = grey_array(a.grey.resize(size, method, box=full_box))
    bg = np.asarray(Image.fromarray(a.background).resize(size, Image.Resampling.BILINEAR, box=crop), np.float32)
    own = ops.dilate(a.comps.mask(labels).astype(np.float32), 2)  # this digit's ink only: no specks, no neighbours
    own = np.asarray(Image.fromarray(own).resize(size, Image.Resampling.BILINEAR, box=crop)) > 0.01
    ink = _ink(g, bg, a.dark_ink) * own
    strong = ink[ink > 0.2 * ink.max()] if ink.max() > 0 else ink.ravel()
    ink = np.clip(ink / max(float(ops.percentile(strong, 90)), 1e-6), 0, 1)
    steps = None if a.steps is None else list(a.steps)
    _step(steps, "cropped", lambda: _u8(ink))
    soft = np.clip((ink - 0.25) / 0.5, 0, 1)
    soft, title = _normalise_stroke(soft)
    _step(steps, title, lambda: _u8(soft))
    patch = _fit_box(soft)
    _step(steps, f"fitted to {FIT} px", lambda: _u8(patch))
    x = _centre(patch)
    _step(steps, f"centred {FIELD}x{FIELD}", lambda: _u8(x))
    factor, margin = a.enlarged
    box = tuple(max(0, round(v / factor - margin)) for v in (x0 * sx, y0 * sy, x1 * sx, y1 * sy))
    return Prepared(x[:, :, None].astype(np.float32), True, None, steps or [], box)


def _normalise_stroke(soft: np.ndarray):
    """Thicken thin strokes to MNIST's width/height ratio and thin very bold ones
    to the top of MNIST's range; fractional steps keep the change continuous."""
    binary = soft > 0.5
    if not binary.any():
        return soft, "stroke width"
    ys, xs = np.nonzero(binary)
    long_side = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    width = ops.stroke_width(binary)
    ratio = width / long_side
    lo, hi = STROKE_RANGE
    title = f"stroke width {ratio:.3f} of height"
    if ratio < lo:
        amount = max(0.0, (STROKE_TARGET * long_side - width) / (2 * (1 - STROKE_TARGET)))
        soft = ops.morph_round(np.pad(soft, int(amount) + 2), amount, grow=True)
        return soft, title + f", thickened by {2 * amount:.1f} px"
    if ratio > hi:
        amount = (width - hi * long_side) / (2 * (1 + hi))
        before = len(ops.components(binary))
        while amount >= 0.25:  # never erode so far that a stroke breaks in two or vanishes
            thinner = ops.morph_round(soft, amount, grow=False)
            if len(ops.components(thinner > 0.5)) <= before and (thinner > 0.5).sum() > 0.25 * binary.sum():
                return thinner, title + f", thinned by {2 * amount:.1f} px"
            amount -= 1
    return soft, title


def _fit_box(soft: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(soft > 0.02)
    crop = soft[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    size = _fit((crop.shape[1], crop.shape[0]), FIT)
    method = Image.Resampling.BOX if max(crop.shape) >= FIT else Image.Resampling.BILINEAR
    patch = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, method), np.float32)
    return patch / max(float(patch.max()), 1e-6)


def _centre(patch: np.ndarray) -> np.ndarray:
    """Place the patch so its centre of mass sits at (14, 14), where MNIST's digits have theirs."""
    h, w = patch.shape
    total = float(patch.sum())
    cy = float((patch.sum(axis=1) * np.arange(h)).sum() / total) if total else (h - 1) / 2
    cx = float((patch.sum(axis=0) * np.arange(w)).sum() / total) if total else (w - 1) / 2
    top = min(max(int(round(FIELD / 2 - cy)), 0), FIELD - h)
    left = min(max(int(round(FIELD / 2 - cx)), 0), FIELD - w)
    out = np.zeros((FIELD, FIELD), np.float32)
    out[top:top + h, left:left + w] = patch
    return out
