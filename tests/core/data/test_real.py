"""The real development sources: loaders, rendering, block averaging, and person splits that never mix people."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mnist_core.data import mix, real

needs_real = pytest.mark.skipif(not real.available(), reason="../shared/data/real is not beside the repository")


def test_block_average_is_the_ink_share_per_block():
    bitmaps = np.zeros((1, 32, 32), np.uint8)
    bitmaps[0, :4, :4] = 1  # one full 4x4 block
    bitmaps[0, 4:6, 0:4] = 1  # half of the block below it
    out = real.block_average(bitmaps.astype(np.float32), 8)
    assert out.shape == (1, 8, 8)
    assert out[0, 0, 0] == 1.0 and out[0, 1, 0] == 0.5 and out[0].sum() == 1.5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=2, max_size=80), st.floats(0.1, 0.6), st.integers(0, 5))
def test_person_split_never_puts_a_person_on_both_sides(people, held_out, seed):
    people = np.array(people)
    train, held = real.person_split(people, held_out, seed)
    assert sorted(np.r_[train, held].tolist()) == list(range(len(people)))
    assert not set(people[train].tolist()) & set(people[held].tolist())
    assert len(held) > 0  # at least one person is always held out


def test_person_split_is_the_same_whatever_the_order_of_rows():
    people = np.array(["b", "a", "c", "a", "d", "b", "e", "f"])
    _, held = real.person_split(people, 0.3, 0)
    order = np.random.default_rng(3).permutation(len(people))
    _, held2 = real.person_split(people[order], 0.3, 0)
    assert set(people[held].tolist()) == set(people[order][held2].tolist())


def test_render_strokes_draws_dark_ink_on_white_inside_the_margin():
    strokes = [np.array([[0, 0], [0, 100]], np.float32)]  # a vertical line: a 1
    im = real.render_strokes(strokes, 64, 0.1, margin=0.15)
    assert im.shape == (64, 64) and im.dtype == np.uint8
    ys, xs = np.nonzero(im < 128)
    assert im[0].min() == 255 and im[:, 0].min() == 255  # the border is paper
    assert 6 <= ys.min() <= 10 and 54 <= ys.max() <= 58  # 15% margins (9.6 px) less the round caps
    assert 3 <= xs.max() - xs.min() + 1 <= 8  # pen: a tenth of the digit's height


@needs_real
def test_uji_writers_are_index_div_two_and_each_writes_every_digit_twice():
    samples, labels, writers = real.uji_strokes()
    assert len(samples) == 1200 and np.bincount(labels).tolist() == [120] * 10
    for k in range(10):
        w = writers[labels == k]
        assert w.tolist() == [i // 2 for i in range(120)]


@needs_real
def test_uji_held_out_writers_are_never_in_training():
    src = real.uji(pens=(0.08,), sizes=(64,))
    train, held = mix.uji_split(src)
    assert len(set(src.people[held].tolist())) == 18 and len(set(src.people[train].tolist())) == 42
    assert not set(src.people[held].tolist()) & set(src.people[train].tolist())


@needs_real
def test_optdigits_at_each_resolution_is_dark_on_white():
    for side in (32, 16, 8):
        s = real.optdigits(side)
        assert len(s) == 2880 and s.images[0].shape == (side, side)
        assert all(im.max() == 255 for im in s.images[:50])  # paper is white
        assert (s.people == -1).all()  # no writer ids


@needs_real
def test_hds_people_split_holds_out_about_a_third_of_the_people():
    src = real.hds()
    train, held = mix.hds_split(src)
    assert len(set(src.people[held].tolist())) == 6 and len(set(src.people[train].tolist())) == 15
    assert set(src.labels.tolist()) == {"ellipse", "rectangle", "triangle", "other"}
