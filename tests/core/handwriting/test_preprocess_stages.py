"""Preprocessing stages pinned by hand-computed values (found by `make mutation`: the whole-image tests
pass through them with room to spare): pictures, sizes, noise, box gaps, specks, column groups, fitting
and centring."""

import numpy as np
import pytest
from PIL import Image

from mnist_core.handwriting import imageops as ops
from mnist_core.handwriting import preprocess as pp


def test_u8_clips_then_rounds():
    assert pp._u8(np.array([-0.5, 0.0, 0.5, 1.0, 1.5])).tolist() == [0, 0, 128, 255, 255]


def test_fit_keeps_at_least_one_pixel():
    assert pp._fit((1000, 10), 20) == (20, 1) and pp._fit((10, 1000), 20) == (1, 20)
    assert pp._fit((30, 15), 20) == (20, 10)


def test_noise_is_median_plus_scaled_mad():
    # median 2, absolute deviations [2, 1, 0, 1, 8] -> MAD 1
    assert pp._noise(np.array([0.0, 1.0, 2.0, 3.0, 10.0])) == pytest.approx(2 + 1.4826, abs=1e-12)


def test_gaps_are_chessboard_distances_between_boxes():
    a = np.array([[0, 0, 2, 2], [10, 10, 12, 12], [3, 20, 4, 25]])  # (y0, x0, y1, x1), ends exclusive
    b = np.array([[5, 1, 7, 3], [0, 10, 2, 12], [1, 1, 3, 3]])
    assert pp._gaps(a, b).tolist() == [[3, 8, 0], [7, 8, 7], [17, 8, 17]]


def test_ink_relative_to_the_paper_and_clipped_at_zero():
    g = np.array([0.0, 0.1, 0.5, 0.9])
    bg = np.array([0.2, 0.8, 0.4, 0.8])
    # dark ink: (paper - g) / max(paper, 0.3): 0.2/0.3, 0.7/0.8, -0.1/0.4 -> 0, -0.1/0.8 -> 0
    assert np.allclose(pp._ink(g, bg, True), [0.2 / 0.3, 0.7 / 0.8, 0.0, 0.0])
    # light ink: g - floor, clipped at 0
    assert np.allclose(pp._ink(g, bg, False), [0.0, 0.0, 0.1, 0.1])


def _blocks(shape, *boxes):
    """A mask with one filled rectangle per (y0, x0, y1, x1), and its components' labels in that order."""
    mask = np.zeros(shape, bool)
    for y0, x0, y1, x1 in boxes:
        mask[y0:y1, x0:x1] = True
    comps = ops.components(mask)
    label = {tuple(comps.bbox[k]): k + 1 for k in range(len(comps))}
    return comps, [label[b] for b in boxes]


def test_columns_merge_by_overlap_of_half_the_narrower():
    # A is 10 wide at x 2-11, F 12 wide at x 7-18: they overlap by 5, exactly half the narrower -> one column;
    # G further right stays apart, and the sweep goes on after a merge
    comps, (a, f, g) = _blocks((20, 40), (0, 2, 10, 12), (12, 7, 20, 19), (0, 30, 10, 40))
    assert pp.group_columns(comps, [g, f, a]) == [[a, f], [g]]
    comps, (a, f) = _blocks((20, 40), (0, 2, 10, 12), (12, 9, 20, 13))  # overlap 3 of 4: merged
    assert pp.group_columns(comps, [a, f]) == [[a, f]]
    comps, (a, f) = _blocks((20, 40), (0, 2, 10, 12), (12, 11, 20, 15))  # overlap 1 of 4: apart
    assert pp.group_columns(comps, [a, f]) == [[a], [f]]


def test_a_small_column_joins_the_nearest_by_centre():
    # A (100 px) at x 0-9, B (4 px) at 13-14, C+D (148 px) at 25-34: B's centre 14 is nearer A's (5) than C's (30)
    comps, (a, b, c, d) = _blocks((20, 40), (0, 0, 10, 10), (0, 13, 2, 15), (0, 25, 10, 35), (12, 27, 20, 33))
    assert pp.group_columns(comps, [a, b, c, d]) == [[a, b], [c, d]]
    # B (4 px) at 22-23: centre 23 is nearer C's: it joins the group after it
    comps, (a, b, c, d) = _blocks((20, 40), (0, 0, 10, 10), (0, 22, 2, 24), (0, 25, 10, 35), (12, 27, 20, 33))
    assert pp.group_columns(comps, [a, b, c, d]) == [[a], [c, d, b]]
    # B (16 px, 8 wide) at 14-21: its centre 18 is nearer A's 5 (13) than C's 30 (12)? no: C's -> joins C
    comps, (a, b, c) = _blocks((20, 40), (0, 0, 10, 10), (0, 14, 2, 22), (0, 25, 20, 35))
    assert pp.group_columns(comps, [a, b, c]) == [[a], [c, b]]
    # B (8 px) at 12-15 nearer A; its left edge 12 alone (or its right edge 16) would point elsewhere
    comps, (a, b, c) = _blocks((20, 40), (0, 0, 10, 10), (0, 12, 2, 16), (0, 20, 10, 30))
    assert pp.group_columns(comps, [a, b, c]) == [[a, b], [c]]


def test_two_columns_merge_only_under_a_tenth():
    comps, (a, b) = _blocks((20, 40), (0, 0, 10, 10), (0, 20, 2, 25))  # 10 px: exactly a tenth, kept apart
    assert pp.group_columns(comps, [a, b]) == [[a], [b]]
    comps, (a, b) = _blocks((20, 40), (0, 0, 10, 10), (0, 20, 1, 29))  # 9 px: joins
    assert pp.group_columns(comps, [a, b]) == [[a, b]]
    comps, (a,) = _blocks((20, 40), (0, 0, 10, 10))
    assert pp.group_columns(comps, [a]) == [[a]]


def _kept(boxes, shape=(60, 60)):
    comps, labels = _blocks(shape, *boxes)
    kept = set(pp._drop_specks(comps))
    return [k in kept for k in labels]


@pytest.mark.parametrize("transpose", [False, True])
def test_specks_reach_depends_on_size_and_area(transpose):
    # top: 20 tall, 5 wide (100 px) at rows 10-29, cols 20-24 -> size 20: pieces (>= 3 px) reach 7, dots 2.4
    def t(b):
        return (b[1], b[0], b[3], b[2]) if transpose else b
    top = (10, 20, 30, 25)
    boxes = [top,
             (10, 32, 12, 35),   # 6 px piece, gap 7: kept
             (20, 33, 22, 36),   # 6 px piece, gap 8: dropped
             (32, 20, 33, 23),   # 3 px (exactly 3% of the top) piece, gap 2... kept either way
             (40, 20, 41, 23),   # 3 px piece at gap 10 from the top, but 7 from the piece above: kept in a chain
             (0, 20, 1, 22),     # 2 px dot, gap 9: dropped
             (10, 16, 11, 18),   # 2 px dot, gap 2 (<= 2.4): kept
             (25, 14, 26, 17)]   # 3 px dot-sized piece, gap 3 (<= 7): kept
    assert _kept([t(b) for b in boxes]) == [True, True, False, True, True, False, True, True]


def test_specks_boundaries():
    top = (10, 20, 20, 30)  # 10 x 10: size 10, pieces reach 3.5, dots reach max(2, 1.2) = 2
    boxes = [top,
             (25, 0, 40, 1),     # 15 px (exactly 15% of the top): kept on its own, however far
             (10, 32, 11, 34),   # 2 px dot at gap 2: kept
             (14, 33, 15, 35),   # 2 px dot at gap 3: dropped
             (0, 20, 1, 21),     # 1 px: never a candidate, even at gap 9
             (10, 15, 11, 17)]   # 2 px dot at gap 3 on the left: dropped
    assert _kept(boxes) == [True, True, True, False, False, False]
    assert _kept([top, (10, 18, 11, 19)]) == [True, False]  # 1 px at gap 1: too small to be a candidate


def test_centre_clamps_and_keeps_float32():
    patch = np.zeros((20, 20), np.float32)
    patch[19, 19] = 1.0  # the mass wants the patch to start above the field: it starts at its top
    out = pp._centre(patch)
    assert out.dtype == np.float32 and out[19, 19] == 1.0 and out.sum() == 1.0
    patch = np.zeros((20, 20), np.float32)
    patch[0, 0] = 1.0
    assert pp._centre(patch)[8, 8] == 1.0  # the far side: clamped so the patch stays inside
    assert not pp._centre(np.zeros((7, 7), np.float32)).any()  # nothing to centre: nothing, and no error


def test_fit_box_crops_above_two_percent_and_stretches_to_one():
    soft = np.zeros((10, 10), np.float32)
    soft[2:5, 3] = [0.25, 0.5, 0.25]
    soft[7, 7] = 0.02  # not ink
    patch = pp._fit_box(soft)
    assert patch.shape == (20, 7) and patch.max() == 1.0
    want = np.asarray(Image.fromarray(soft[2:5, 3:4]).resize((7, 20), Image.Resampling.BILINEAR), np.float32)
    assert np.allclose(patch, want / want.max())
    big = np.random.default_rng(0).random((40, 40)).astype(np.float32) * 0.5 + 0.1
    want = big.reshape(20, 2, 20, 2).mean(axis=(1, 3))  # shrunk by 2: box means
    assert np.allclose(pp._fit_box(big), want / want.max(), atol=1e-6)


def test_polarity_from_the_border_and_the_tails():
    g = np.full((10, 10), 0.5)
    g[:2], g[-2:] = 0.25, 0.75
    g[2:8, :2], g[2:8, -2:] = 0.25, 0.75  # the border: 40 at 0.25 and 40 at 0.75, median 0.5
    g[2:8, 2:8] = 0.0  # a dark ring just inside it
    g[3:7, 3:7] = 1.0  # and a bright centre: both tails 0.5 from the paper, a tie reads as dark ink
    assert pp._dark_ink(g)
    light = np.full((10, 10), 0.5)
    light[4:6, 4:6] = 1.0
    light[2:4, 2:4] = 0.25
    assert not pp._dark_ink(light)  # a longer bright tail: light ink


def _bar(h, w):
    soft = np.zeros((50, 30), np.float32)
    soft[5:5 + h, 5:5 + w] = 1.0
    return soft


def test_stroke_width_thickens_thin_and_thins_bold_strokes():
    # 1 x 40: width 2 * 40 / 40 = 2, ratio 0.05; grown by (0.1 * 40 - 2) / (2 * 0.9) = 1.11 px a side
    out, title = pp._normalise_stroke(_bar(40, 1))
    assert title == "stroke width 0.050 of height, thickened by 2.2 px"
    assert out.shape == (56, 36) and int((out > 0.5).sum()) == 126  # padded by int(1.11) + 2 each side
    # 12 x 40: width 2 * 480 / 100 = 9.6, ratio 0.24; eroded by (9.6 - 0.15 * 40) / (2 * 1.15) = 1.57 px a side
    out, title = pp._normalise_stroke(_bar(40, 12))
    assert title == "stroke width 0.240 of height, thinned by 3.1 px"
    assert out.shape == (50, 30) and int((out > 0.5).sum()) == 288
    # two blocks joined by a neck: every erosion would cut the neck, so the digit is left as it is
    soft = np.zeros((30, 60), np.float32)
    soft[5:25, 5:25] = soft[5:25, 35:55] = soft[14:16, 25:35] = 1.0
    out, title = pp._normalise_stroke(soft)
    assert title == "stroke width 0.191 of height" and np.array_equal(out, soft)
    assert pp._normalise_stroke(np.full((5, 5), 0.5, np.float32))[1] == "stroke width"  # no ink over a half


def _photo(w, h):
    from PIL import ImageDraw

    img = Image.new("L", (w, h), 230)
    ImageDraw.Draw(img).line([(w * 0.4, h * 0.2), (w * 0.55, h * 0.25), (w * 0.45, h * 0.8)], fill=30,
                             width=max(2, int(w * 0.03)))
    return img


@pytest.mark.parametrize("size, box, stroke, total", [
    ((600, 400), (236, 71, 341, 325), "stroke width 0.058 of height, thickened by 3.7 px", 60.8577),  # shrunk
    ((60, 40), (24, 8, 35, 33), "stroke width 0.054 of height, thickened by 4.1 px", 56.1452),  # enlarged
])
def test_render_pinned_on_a_drawn_seven(size, box, stroke, total):
    """A regression pin: the whole pipeline on one drawing, large (analysed at a quarter and read back at full
    resolution) and small. A deliberate change to preprocessing updates these numbers, after a look."""
    a = pp.analyse(_photo(*size))
    p = pp.render(a, a.kept)
    assert [t for t, _ in p.steps] == ["grey", "ink made white", "background removed", "ink mask", "specks removed",
                                       "cropped", stroke, "fitted to 20 px", "centred 28x28"]
    assert p.box == box and p.found and p.x.shape == (28, 28, 1) and p.x.dtype == np.float32
    assert float(p.x.sum()) == pytest.approx(total, abs=1e-3)
    assert pp.render(pp.analyse(_photo(*size), keep_steps=False), a.kept).steps == []
