"""label_smoothing: one-hot targets and Keras' smoothed categorical cross-entropy (issue 27's candidate for `fast`)."""

import math

import numpy as np
import pytest

from mnist_core.training import loop
from mnist_core.training.config import ConfigError, TrainConfig


@pytest.mark.parametrize("value", [-0.1, 1.0])
def test_label_smoothing_is_validated(value):
    with pytest.raises(ConfigError, match="label smoothing"):
        TrainConfig(label_smoothing=value).validate()
    assert TrainConfig(label_smoothing=0.1).validate().label_smoothing == 0.1


def test_off_by_default_keeps_sparse_labels():
    config = TrainConfig.for_model("mlp")  # `fast`'s recipe turns it on (0.1)
    assert config.label_smoothing == 0.0 and loop._loss(config) == "sparse_categorical_crossentropy"
    y = np.array([3, 1])
    assert loop._targets(y, config) is y


def test_on_the_targets_are_one_hot_and_the_loss_smooths_them():
    config = TrainConfig.for_model("fast", label_smoothing=0.2)
    np.testing.assert_array_equal(loop._targets(np.array([3, 0]), config), np.eye(10, dtype=np.float32)[[3, 0]])
    assert loop._loss(config).get_config()["label_smoothing"] == pytest.approx(0.2)


def test_a_smoothed_run_trains_on_smoothed_targets_and_still_counts_accuracy(tiny_splits):
    ls = 0.3
    card = loop.train(TrainConfig.for_model("fast", epochs=2, batch_size=50, label_smoothing=ls),
                      splits=tiny_splits, save=False)
    # No prediction gets a smoothed cross-entropy under the entropy of the smoothed targets.
    on, off = 1 - ls + ls / 10, ls / 10
    floor = -(on * math.log(on) + 9 * off * math.log(off))
    assert min(card["history"]["loss"]) > floor - 1e-3
    assert card["history"]["val_accuracy"][-1] > 0.5 and card["test_accuracy"] > 0.5  # accuracy on one-hot targets
    plain = loop.train(TrainConfig.for_model("fast", epochs=2, batch_size=50, label_smoothing=0.0),
                       splits=tiny_splits, save=False)
    assert min(plain["history"]["loss"]) < floor  # without smoothing the same run goes below it
