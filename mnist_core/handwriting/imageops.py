"""Image operations for preprocessing: grey morphology and connected components.

Both run in OpenCV (already a dependency for the collection sheets): minimum
and maximum filters are exact in any order, so cv2.erode/dilate give the same
numbers as the separable NumPy passes they replaced, in a fraction of the
time, and cv2's labelling replaces a union-find loop in Python. Components are
renumbered in the order of their first horizontal run (raster order), which
ties in the speck and column logic depend on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# The images here are at most a few hundred pixels across: OpenCV's thread pool costs more than it saves
# on them (labelling with statistics takes 2.5x as long with 2 threads as with 1 on the 2-core box), and a
# batch already keeps every core busy with one worker process each.
cv2.setNumThreads(1)
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_CV_TYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def _morph(a: np.ndarray, kernel: np.ndarray, grow: bool) -> np.ndarray:
    """cv2's default border for erode/dilate is neutral (+-max), so windows near the edge are cut short."""
    a = np.asarray(a)
    if a.dtype == bool:
        return _morph(a.view(np.uint8), kernel, grow).view(bool)
    if a.dtype.type not in _CV_TYPES or a.ndim != 2 or a.size == 0:
        raise TypeError(f"morphology takes a non-empty 2-D array of {[t.__name__ for t in _CV_TYPES]}, "
                        f"not {a.dtype}{a.shape}")
    return (cv2.dilate if grow else cv2.erode)(np.ascontiguousarray(a), kernel)


def _square(a: np.ndarray, r: int, op) -> np.ndarray:
    if r <= 0:
        return a
    return _morph(a, np.ones((2 * r + 1, 2 * r + 1), np.uint8), op is np.maximum)


def _cross(a: np.ndarray, op) -> np.ndarray:
    return _morph(a, _CROSS, op is np.maximum)


def dilate(a: np.ndarray, r: int = 1) -> np.ndarray:
    """Grey dilation by a square of side 2r+1."""
    return _square(a, r, np.maximum)


def erode(a: np.ndarray, r: int = 1) -> np.ndarray:
    """Grey erosion by a square of side 2r+1."""
    return _square(a, r, np.minimum)


def _round_step(a: np.ndarray, i: int, op) -> np.ndarray:
    """Step i of an octagon: squares and crosses alternate, so strokes stay round."""
    return _square(a, 1, op) if i % 2 == 0 else _cross(a, op)


def morph_round(a: np.ndarray, amount: float, grow: bool) -> np.ndarray:
    """Dilate (grow) or erode by an octagon of radius `amount`, which may be
    fractional: the last step is blended in, so the width changes smoothly."""
    op = np.maximum if grow else np.minimum
    whole = int(amount)
    for i in range(whole):
        a = _round_step(a, i, op)
    frac = amount - whole
    if frac > 0.02:
        a = a + np.float32(frac) * (_round_step(a, whole, op) - a)
    return a


def opening(a: np.ndarray, r: int) -> np.ndarray:
    """Removes bright structures narrower than 2r+1 (strokes), keeps the smooth background."""
    return dilate(erode(a, r), r)


def closing(a: np.ndarray, r: int) -> np.ndarray:
    """Removes dark structures narrower than 2r+1 (ink on paper), keeps the paper."""
    return erode(dilate(a, r), r)


def box_blur(a: np.ndarray, r: int = 1) -> np.ndarray:
    """Mean over a (2r+1)^2 window (edges replicated), as two running sums."""
    if r <= 0:
        return a
    k = 2 * r + 1
    p = border(a, r)
    c = np.cumsum(p, axis=0)
    rows = np.concatenate([c[k - 1:k], c[k:] - c[:-k]])
    c = np.cumsum(rows, axis=1)
    out = np.concatenate([c[:, k - 1:k], c[:, k:] - c[:, :-k]], axis=1)
    return out * np.float32(1.0 / (k * k))


def mean3(a: np.ndarray) -> np.ndarray:
    """3x3 mean (edges replicated), from shifted slices."""
    p = border(a, 1)
    rows = p[:-2] + p[1:-1]
    rows += p[2:]
    out = rows[:, :-2] + rows[:, 1:-1]
    out += rows[:, 2:]
    out *= np.float32(1 / 9)
    return out


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask, 2 * area / boundary length.

    A stroke of width w and length L has area wL and about 2L boundary pixels;
    the estimate needs no skeleton or distance transform."""
    area = int(mask.sum())
    if area == 0:
        return 0.0
    inner = erode(mask.astype(np.uint8), 1).astype(bool)
    boundary = int(area - (inner & mask).sum())
    return 2.0 * area / max(boundary, 1)


@dataclass
class Components:
    """8-connected components of a mask: cv2's label image, and per component (label k at index k - 1)
    its area and box, numbered in the raster order of each component's first pixel."""

    shape: tuple
    image: np.ndarray  # cv2's labels, 0 = background
    cv_label: np.ndarray  # cv_label[k - 1]: cv2's label of component k
    area: np.ndarray  # per component
    bbox: np.ndarray  # per component: (y0, x0, y1, x1), exclusive ends

    def __len__(self) -> int:
        return len(self.area)

    def labels(self) -> np.ndarray:
        """The label image in this numbering (0 = background)."""
        number = np.zeros(len(self) + 1, np.int64)
        number[self.cv_label] = np.arange(1, len(self) + 1)
        return number[self.image]

    def mask(self, labels) -> np.ndarray:
        """Binary image of the chosen components."""
        keep = np.zeros(len(self) + 1, bool)
        keep[self.cv_label[np.asarray(list(labels), dtype=np.int64) - 1]] = True
        return keep[self.image]


def components(mask: np.ndarray) -> Components:
    """Label 8-connected components (cv2), renumbered so a component whose first pixel comes earlier in
    raster order gets the lower label, as the speck and column logic have always seen them."""
    mask = np.asarray(mask, bool)
    h, w = mask.shape
    n, image, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask.view(np.uint8), 8, cv2.CV_32S, cv2.CCL_BBDT)
    stats = stats[1:].astype(np.int64)
    top, left = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_LEFT]
    labels = np.arange(1, n)
    first_x = (image[top] == labels[:, None]).argmax(axis=1)  # leftmost pixel of each component's top row
    order = np.argsort(top * w + first_x, kind="stable")
    top, left, stats = top[order], left[order], stats[order]
    bbox = np.stack([top, left, top + stats[:, cv2.CC_STAT_HEIGHT], left + stats[:, cv2.CC_STAT_WIDTH]], axis=1)
    return Components((h, w), image, labels[order], stats[:, cv2.CC_STAT_AREA].copy(), bbox.reshape(-1, 4))


def border(a: np.ndarray, r: int) -> np.ndarray:
    """a with r pixels of its own edge replicated around it (np.pad's "edge" mode, a fraction of its cost)."""
    return cv2.copyMakeBorder(np.ascontiguousarray(a, np.float32), r, r, r, r, cv2.BORDER_REPLICATE)


def percentile(values: np.ndarray, q, u8: np.ndarray | None = None, ordered: np.ndarray | None = None):
    """np.percentile(values, q) ("linear"), to the last bit, for finite values (what the stages feed it).

    np.percentile sorts a copy of the whole array and spends tens of microseconds on its own
    bookkeeping; here only the order statistics it interpolates between are found (a histogram
    when `u8` holds the 8-bit levels behind values = u8 / 255; `ordered`: values already sorted,
    when several statistics of one array are needed), and its arithmetic is repeated step
    for step: a scalar q interpolates in float32 and gives a float32, a list in float64 (an array),
    as NumPy's promotion rules have it."""
    weak = type(q) in (int, float)
    n, kind = values.size, values.dtype.type
    spots = []
    for quantile in ([q] if weak else list(q)):
        index = (n - 1) * (quantile / 100)  # IEEE doubles, as NumPy's float64 arrays compute them
        lower = math.floor(index)
        spots.append((n - 1, n - 1, 0.0) if index >= n - 1 else (lower, lower + 1, index - lower))
    ranks = sorted({k for a, b, _ in spots for k in (a, b)})
    found = dict(zip(ranks, _order_statistics(values, ranks, u8) if ordered is None else list(ordered[ranks])))
    out = []
    for a, b, gamma in spots:
        a, b = found[a], found[b]
        diff = b - a  # float32
        if weak:  # a Python float meets the values' own type (float32 here) and takes it
            out.append(b - diff * kind(1 - gamma) if gamma >= 0.5 else a + diff * kind(gamma))
        else:  # float64 gammas: float64 throughout
            out.append(float(b) - float(diff) * (1 - gamma) if gamma >= 0.5 else float(a) + float(diff) * gamma)
    return out[0] if weak else np.array(out, np.float64)


def _order_statistics(values: np.ndarray, ranks: list, u8: np.ndarray | None) -> list:
    """The k-th smallest values (k in ranks), as float32 scalars."""
    if u8 is not None:  # 256 levels: the k-th smallest is the level whose running count passes k
        counts = np.cumsum(cv2.calcHist([np.ascontiguousarray(u8)], [0], None, [256], [0, 256]).ravel().astype(np.int64))
        return list(_LEVELS[np.searchsorted(counts, ranks, side="right")])
    return list(np.partition(values.ravel(), ranks)[ranks])


_LEVELS = np.arange(256, dtype=np.float32) / np.float32(255.0)


def median(values: np.ndarray, ordered: np.ndarray | None = None) -> float:
    """np.median(values) to the last bit for finite float32 values: the middle one, or the float32 mean
    of the middle two (`ordered`: the values already sorted)."""
    flat = values.ravel()
    n = flat.size
    half = n // 2
    if n % 2:
        return float((np.partition(flat, half) if ordered is None else ordered)[half])
    part = np.partition(flat, [half - 1, half]) if ordered is None else ordered
    return float((part[half - 1] + part[half]) / np.float32(2))
