"""The cross-source table: scores through the product's path, refusals counted, trained-on sources not scored."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mnist_core.analysis import realworld
from mnist_core.analysis.evaluate import wilson_interval
from mnist_core.data import real
from mnist_core.data.mnist import load_splits
from mnist_core.models import loading
from tests.conftest import REPO


@pytest.fixture(scope="module")
def default():
    return loading.load("default", REPO / "models")


def _paper(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit as dark ink on white paper at 84 px, as a scan would give it."""
    im = Image.fromarray((255 - digit[..., 0] * 255).astype(np.uint8)).resize((84, 84), Image.Resampling.BILINEAR)
    return np.asarray(im)


def test_a_source_is_scored_with_refusals_counted_as_wrong(default):
    splits = load_splits()
    digits = [_paper(splits.x_test[i]) for i in range(10)]
    blank = np.full((84, 84), 255, np.uint8)  # no digit found: refused, and wrong
    labels = np.r_[splits.y_test[:10], [3, 3]]
    source = real.Source("mix", digits + [blank, blank], labels, np.full(12, -1), "a test source")
    s = realworld.score(default, "mix", source)
    assert (s.n, s.correct, s.refused) == (12, 10, 2)
    assert s.accuracy == pytest.approx(10 / 12) and s.ci95 == pytest.approx(tuple(wilson_interval(10, 12)))
    assert s.confusions == [("3", "refused", 2)] and s.refused_share == pytest.approx(2 / 12)


def test_a_source_without_people_that_the_model_learned_from_is_not_scored(default):
    card = {"data_sources": [{"source": "mnist"}, {"source": "optdigits"}, {"source": "uji"}]}
    blank = real.Source("x", [np.full((40, 40), 255, np.uint8)], np.array([1]), np.array([-1]), "n")
    out = realworld.measure(default, [("optdigits32", blank), ("uji held-out writers", blank)], card)
    assert out[0].trained_on and out[0].n == 0  # no writer ids: trained on, so never measured
    assert not out[1].trained_on and out[1].n == 1  # uji is scored on the writers it never saw


def test_scores_round_trip_through_the_saved_file(tmp_path):
    s = realworld.SourceScore("uji held-out writers", "note", 200, 190, 0.95, (0.91, 0.97), 3,
                              [("1", "7", 4), ("0", "refused", 2)])
    (tmp_path / "m").mkdir()
    realworld.save("m", [s, realworld.SourceScore("optdigits8", "n", trained_on=True)], {"x": 1}, root=tmp_path)
    data = realworld.load("m", root=tmp_path)
    assert data["sources"][0] == s and data["sources"][1].trained_on and data["x"] == 1
    assert realworld.load("absent", root=tmp_path) is None


def test_table_rows_say_what_a_user_reads():
    rows = realworld.table_rows([realworld.SourceScore("photos: as taken", "n", 100, 98, 0.98, (0.93, 0.994), 1,
                                                       [("0", "refused", 1), ("5", "3", 1)]),
                                 realworld.SourceScore("optdigits32", "n", trained_on=True)])
    assert rows[0] == {"source": "photos: as taken", "images": 100, "accuracy": "98.00%",
                       "95% interval": "93.0%-99.4%", "refused": "1.0%", "commonest errors": "0->refused x1, 5->3 x1"}
    assert rows[1]["accuracy"] == "trained on" and rows[1]["images"] is None


@pytest.mark.skipif(not realworld.SAMPLE.is_dir(), reason="the shared photos are not beside the repository")
def test_every_photo_condition_keeps_the_hundred_photos_and_their_labels():
    for condition in realworld.CONDITIONS:
        s = realworld.photos(condition)
        assert len(s) == 100 and np.bincount(s.labels).tolist() == [10] * 10
        assert s.images[0].ndim == 2
    assert realworld.photos("small (48 px)").images[0].shape == (48, 48)
