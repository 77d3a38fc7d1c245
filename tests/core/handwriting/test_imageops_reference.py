"""The fast image operations agree with slow, obvious reference versions on any small image
(found by `make mutation`: the preprocessing tests only saw them through whole photos)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mnist_core.handwriting import imageops as ops

SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9))
GREY = SHAPES.flatmap(lambda s: arrays(np.float32, s, elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])))
MASKS = SHAPES.flatmap(lambda s: arrays(bool, s))
SETTINGS = settings(max_examples=80, deadline=None)


def window(a, y, x, r):
    return a[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]


def reference(a, r, reduce):
    return np.array([[reduce(window(a, y, x, r)) for x in range(a.shape[1])] for y in range(a.shape[0])],
                    a.dtype)


def cross_reference(a, reduce):
    h, w = a.shape
    out = a.copy()
    for y in range(h):
        for x in range(w):
            near = [a[y, x]] + [a[v, u] for v, u in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1))
                                if 0 <= v < h and 0 <= u < w]
            out[y, x] = reduce(near)
    return out


@SETTINGS
@given(GREY, st.integers(0, 3))
def test_dilate_and_erode_are_max_and_min_over_a_square(a, r):
    assert np.array_equal(ops.dilate(a, r), reference(a, r, np.max))
    assert np.array_equal(ops.erode(a, r), reference(a, r, np.min))
    assert np.array_equal(ops.opening(a, r), reference(reference(a, r, np.min), r, np.max))
    assert np.array_equal(ops.closing(a, r), reference(reference(a, r, np.max), r, np.min))


def test_default_radius_is_one():
    a = np.zeros((5, 5), np.float32)
    a[2, 2] = 1
    assert ops.dilate(a).sum() == 9 and ops.erode(1 - a).sum() == 16


@SETTINGS
@given(GREY, st.floats(0, 3.5))
def test_morph_round_alternates_squares_and_crosses_and_blends_the_last_step(a, amount):
    for grow, reduce in ((True, np.max), (False, np.min)):
        want = a.copy()
        whole = int(amount)
        steps = [lambda b: reference(b, 1, reduce), lambda b: cross_reference(b, reduce)]
        for i in range(whole):
            want = steps[i % 2](want)
        frac = amount - whole
        if frac > 0.02:
            want = want + np.float32(frac) * (steps[whole % 2](want) - want)
        assert np.allclose(ops.morph_round(a, amount, grow), want, atol=1e-6)


@SETTINGS
@given(GREY, st.integers(0, 3))
def test_box_blur_is_the_mean_over_an_edge_replicated_window(a, r):
    padded = np.pad(a, r, mode="edge")
    k = 2 * r + 1
    want = np.array([[padded[y:y + k, x:x + k].mean() for x in range(a.shape[1])] for y in range(a.shape[0])])
    got = ops.box_blur(a, r)
    assert got.shape == a.shape and np.allclose(got, want, atol=1e-5)
    if r == 1:
        assert np.allclose(ops.mean3(a), want, atol=1e-5)


def test_box_blur_default_radius_and_dtype():
    a = np.zeros((3, 3), np.uint8)
    a[1, 1] = 9
    assert np.allclose(ops.box_blur(a), 1.0) and ops.box_blur(a).dtype == np.float32
    assert ops.mean3(a).dtype == np.float32 and np.allclose(ops.mean3(a), 1.0)


def flood_components(mask):
    """8-connected components by flood fill: a set of pixels per component."""
    seen, found = np.zeros_like(mask), []
    h, w = mask.shape
    for y in range(h):
        for x in range(w):
            if mask[y, x] and not seen[y, x]:
                stack, pixels = [(y, x)], set()
                seen[y, x] = True
                while stack:
                    v, u = stack.pop()
                    pixels.add((v, u))
                    for dv in (-1, 0, 1):
                        for du in (-1, 0, 1):
                            p, q = v + dv, u + du
                            if 0 <= p < h and 0 <= q < w and mask[p, q] and not seen[p, q]:
                                seen[p, q] = True
                                stack.append((p, q))
                found.append(frozenset(pixels))
    return found


@settings(max_examples=150, deadline=None)
@given(MASKS)
def test_components_match_a_flood_fill(mask):
    comps = ops.components(mask)
    want = flood_components(mask)
    assert len(comps) == len(want)
    got = []
    for k in range(1, len(comps) + 1):
        pixels = frozenset(zip(*np.nonzero(comps.mask([k]))))
        got.append(pixels)
        ys, xs = zip(*pixels)
        assert comps.area[k - 1] == len(pixels)
        assert tuple(comps.bbox[k - 1]) == (min(ys), min(xs), max(ys) + 1, max(xs) + 1)
    assert set(got) == set(want)
    assert np.array_equal(comps.mask(range(1, len(comps) + 1)), mask)
    assert not comps.mask([]).any()


def test_components_touching_only_at_a_corner_are_one():
    mask = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0]], bool)
    comps = ops.components(mask)
    assert len(comps) == 2 and sorted(comps.area.tolist()) == [2, 2]


@given(MASKS)
@SETTINGS
def test_stroke_width_is_twice_area_over_boundary(mask):
    area = int(mask.sum())
    inner = reference(mask.astype(np.uint8), 1, np.min).astype(bool)
    boundary = area - int((inner & mask).sum())
    want = 0.0 if area == 0 else 2.0 * area / max(boundary, 1)
    assert ops.stroke_width(mask) == want


def test_stroke_width_of_a_bar():
    mask = np.zeros((20, 20), bool)
    mask[5:9, 2:18] = True  # 4 wide, 16 long: 64 pixels, 2 * 14 inner, so 36 on the boundary
    assert ops.stroke_width(mask) == 2 * 64 / 36
