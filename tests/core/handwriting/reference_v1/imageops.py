"""NumPy image operations for preprocessing: grey morphology and connected components.

Pillow's MinFilter/MaxFilter are rank filters (about 2 ms for a 3x3 pass over
100x100 pixels, and they grow with the square of the size); the separable
shifted-maximum passes below do the same in tens of microseconds, which is
what lets a batch of photos run at hundreds of images per second. scipy is not
a dependency, so components are labelled here from horizontal runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _extreme_1d(a: np.ndarray, r: int, axis: int, op) -> np.ndarray:
    """max or min over a window of 2r+1 along one axis. Near the edges the
    window is cut short, which for max and min equals replicating the edge."""
    if r <= 0:
        return a
    out = a.copy()
    for k in range(1, min(r, a.shape[axis] - 1) + 1):
        if axis == 0:
            op(out[k:], a[:-k], out=out[k:])
            op(out[:-k], a[k:], out=out[:-k])
        else:
            op(out[:, k:], a[:, :-k], out=out[:, k:])
            op(out[:, :-k], a[:, k:], out=out[:, :-k])
    return out


def _square(a: np.ndarray, r: int, op) -> np.ndarray:
    return _extreme_1d(_extreme_1d(a, r, 0, op), r, 1, op)


def _cross(a: np.ndarray, op) -> np.ndarray:
    out = a.copy()
    op(out[1:], a[:-1], out=out[1:])
    op(out[:-1], a[1:], out=out[:-1])
    op(out[:, 1:], a[:, :-1], out=out[:, 1:])
    op(out[:, :-1], a[:, 1:], out=out[:, :-1])
    return out


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
    p = np.pad(a.astype(np.float32, copy=False), r, mode="edge")
    c = np.cumsum(p, axis=0)
    rows = np.concatenate([c[k - 1:k], c[k:] - c[:-k]])
    c = np.cumsum(rows, axis=1)
    out = np.concatenate([c[:, k - 1:k], c[:, k:] - c[:, :-k]], axis=1)
    return out * np.float32(1.0 / (k * k))


def mean3(a: np.ndarray) -> np.ndarray:
    """3x3 mean (edges replicated), from shifted slices."""
    p = np.pad(a.astype(np.float32, copy=False), 1, mode="edge")
    rows = p[:-2] + p[1:-1] + p[2:]
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) * np.float32(1 / 9)


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
    """8-connected components of a mask, described by their horizontal runs."""

    shape: tuple
    run_row: np.ndarray
    run_start: np.ndarray
    run_end: np.ndarray  # exclusive
    run_label: np.ndarray
    area: np.ndarray  # per component
    bbox: np.ndarray  # per component: (y0, x0, y1, x1), exclusive ends

    def __len__(self) -> int:
        return len(self.area)

    def mask(self, labels) -> np.ndarray:
        """Binary image of the chosen components."""
        keep = np.zeros(len(self) + 1, bool)
        keep[np.asarray(list(labels), dtype=np.int64)] = True
        chosen = keep[self.run_label]
        h, w = self.shape
        edges = np.zeros((h, w + 1), np.int32)
        np.add.at(edges, (self.run_row[chosen], self.run_start[chosen]), 1)
        np.add.at(edges, (self.run_row[chosen], self.run_end[chosen]), -1)
        return np.cumsum(edges, axis=1)[:, :w] > 0


def _find(parent: list, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def components(mask: np.ndarray) -> Components:
    """Label 8-connected components: runs per row, unioned with overlapping runs of the next row."""
    mask = np.asarray(mask, bool)
    h, w = mask.shape
    d = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(d == 1)
    _, ends = np.nonzero(d == -1)
    n = len(rows)
    parent = list(range(n))
    row_first = np.searchsorted(rows, np.arange(h + 1))
    rs, re_ = starts.tolist(), ends.tolist()
    for y in range(h - 1):
        a, a_end = int(row_first[y]), int(row_first[y + 1])
        b, b_end = a_end, int(row_first[y + 2])
        while a < a_end and b < b_end:
            # 8-connectivity: runs touch when they overlap or meet at a corner
            if rs[a] <= re_[b] and rs[b] <= re_[a]:
                ra, rb = _find(parent, a), _find(parent, b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if re_[a] < re_[b]:
                a += 1
            else:
                b += 1
    roots = np.array([_find(parent, i) for i in range(n)], dtype=np.int64)
    uniq, label = np.unique(roots, return_inverse=True)
    label = label + 1  # 0 is the background
    k = len(uniq)
    length = ends - starts
    area = np.bincount(label, weights=length, minlength=k + 1)[1:].astype(np.int64)
    bbox = np.zeros((k, 4), np.int64)
    if k:
        bbox[:, 0], bbox[:, 1] = h, w
        np.minimum.at(bbox[:, 0], label - 1, rows)
        np.minimum.at(bbox[:, 1], label - 1, starts)
        np.maximum.at(bbox[:, 2], label - 1, rows + 1)
        np.maximum.at(bbox[:, 3], label - 1, ends)
    return Components((h, w), rows, starts, ends, label, area, bbox)
