"""The order statistics and borders that replaced NumPy's in preprocessing give NumPy's numbers to the
last bit (value and type), so the stages built on them keep every result (issue 27 §2)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mnist_core.handwriting import imageops as ops

LEVELS = arrays(np.uint8, st.integers(1, 300))
FLOATS = st.one_of(arrays(np.float32, st.integers(1, 300), elements=st.floats(0, 1, width=32)),
                 arrays(np.float64, st.integers(1, 300), elements=st.floats(0, 7)))
QS = st.sampled_from([0.1, 99.9, 10, 90, 50, 0, 100, 33.3, [0.1, 99.9], [10.0], [0, 50, 100]])
SETTINGS = settings(max_examples=150, deadline=None)


def same(a, b) -> bool:
    return type(a) is type(b) and np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)


@SETTINGS
@given(FLOATS, QS)
def test_percentile_is_numpys(values, q):
    assert same(ops.percentile(values, q), np.percentile(values, q))


@SETTINGS
@given(LEVELS, QS)
def test_percentile_from_8_bit_levels_is_numpys(levels, q):
    values = levels.astype(np.float32) / 255.0  # as greyscale.grey_array makes them
    assert same(ops.percentile(values, q, levels), np.percentile(values, q))


@SETTINGS
@given(st.one_of(FLOATS, LEVELS.map(lambda u: u.astype(np.float32) / 255.0)))
def test_median_is_numpys(values):
    assert ops.median(values) == float(np.median(values))


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert ops.median(np.array([4, 1, 2, 3], np.float32)) == 2.5


@pytest.mark.parametrize("r", [1, 2, 5])
def test_border_replicates_the_edge(r):
    a = np.random.default_rng(r).random((7, 4)).astype(np.float32)
    assert same(ops.border(a, r), np.pad(a, r, mode="edge"))


@SETTINGS
@given(FLOATS, QS)
def test_statistics_from_values_sorted_once_are_numpys(values, q):
    ordered = np.sort(values, axis=None)
    assert same(ops.percentile(values, q, ordered=ordered), np.percentile(values, q))
    assert ops.median(values, ordered) == float(np.median(values))
