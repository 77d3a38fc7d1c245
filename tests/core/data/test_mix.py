"""What a TrainConfig mixes into training, and the card's list of every source a model learned from."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.data import mix, real
from mnist_core.training.config import ConfigError, TrainConfig


def test_extend_with_nothing_returns_mnist_as_it_is(tiny_splits):
    splits, sources = mix.extend(tiny_splits)
    assert splits is tiny_splits and sources == [{"source": "mnist", "images": 500}]


def test_scan_styles_are_added_to_training_only(tiny_splits, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_CAPTURE_CACHE", str(tmp_path))
    splits, sources = mix.extend(tiny_splits, scan_styles=40)
    added = len(splits.y_train) - len(tiny_splits.y_train)
    assert 30 <= added <= 40 and sources[1]["source"] == "scan-styles" and sources[1]["images"] == added
    assert np.array_equal(splits.x_val, tiny_splits.x_val) and np.array_equal(splits.x_test, tiny_splits.x_test)
    assert splits.x_train.dtype == np.float32 and splits.y_train.dtype == tiny_splits.y_train.dtype


@pytest.mark.parametrize("values, message", [
    (dict(real_sources=["hds"]), "real sources for the digits task must be among uji, optdigits"),
    (dict(real_sources=["photos"]), "got ['photos']"),
    (dict(scan_styles=-1), "scan styles must be an integer 0-200000"),
    (dict(task="shapes", scan_styles=10), "scan styles are for the digits task"),
    (dict(task="shapes", real_sources=["uji"]), "real sources for the shapes task must be among hds"),
])
def test_config_refuses_sources_a_task_cannot_use(values, message):
    with pytest.raises(ConfigError, match=None) as err:
        TrainConfig(**{"model": "cnn", **values}).validate()
    assert message in str(err.value)


def test_a_config_with_sources_round_trips_through_json():
    c = TrainConfig(model="best", init_from="default", scan_styles=100, real_sources=["uji", "optdigits"])
    again = TrainConfig.from_json(c.to_json())
    assert again == c and again.validate() is again


@pytest.mark.skipif(not real.available(), reason="../shared/data/real is not beside the repository")
def test_the_uji_part_training_sees_is_only_the_writers_not_held_out():
    x, y, entry = mix.real_part("uji")
    assert entry["people"] == 42 and entry["held_out_people"] == 18
    # 42 writers x 2 samples x 10 digits x 6 renderings, less any rendering preprocessing finds no digit in
    assert 5000 <= len(y) <= 42 * 2 * 10 * 6 and x.shape[1:] == (28, 28, 1)
    assert np.bincount(y, minlength=10).min() >= 490
