"""training/callback.Validation: fit's validation figures, computed eagerly, for every loss the loop uses."""

import numpy as np
import pytest

from mnist_core.models import loading
from mnist_core.training import loop
from mnist_core.training.config import TrainConfig


@pytest.mark.parametrize("model, smoothing", [("fast", 0.1), ("softmax", 0.0)])
def test_last_epochs_validation_is_what_keras_evaluate_gives(tiny_splits, store_root, model, smoothing):
    config = TrainConfig.for_model(model, epochs=2, batch_size=50, precision="float32", label_smoothing=smoothing,
                                   name=f"val-{model}")
    card = loop.train(config, splits=tiny_splits)
    assert len(card["history"]["val_loss"]) == len(card["history"]["val_accuracy"]) == 2
    net = loading.load(f"val-{model}").net  # the weights the last epoch ended with
    y = loop._targets(tiny_splits.y_val, config)
    net.compile(loss=loop._loss(config), metrics=["accuracy"])
    keras_says = net.evaluate(tiny_splits.x_val, y, batch_size=37, verbose=0, return_dict=True)
    assert card["history"]["val_loss"][-1] == pytest.approx(keras_says["loss"], rel=1e-5)
    assert card["history"]["val_accuracy"][-1] == pytest.approx(keras_says["accuracy"], abs=1e-7)
    assert card["history"]["val_loss"][-1] > 0


@pytest.mark.parametrize("one_hot", [False, True])
def test_figures_are_the_mean_cross_entropy_and_the_share_right_over_chunks(one_hot):
    import keras

    from mnist_core.training.callback import Validation

    rng = np.random.default_rng(0)
    x = rng.normal(size=(23, 2)).astype(np.float32)
    labels = rng.integers(0, 3, 23)
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    net.set_weights([rng.normal(size=(2, 3)).astype(np.float32), np.zeros(3, np.float32)])
    probs = np.asarray(net(x))
    y = np.eye(3, dtype=np.float32)[labels] if one_hot else labels
    loss = "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"
    callback = Validation(x, y, loss, batch_size=5)  # 5 chunks, the last of 3
    callback.set_model(net)
    logs = {"loss": 1.0}
    callback.on_epoch_end(0, logs)
    assert logs["val_loss"] == pytest.approx(-np.mean(np.log(probs[np.arange(23), labels])), rel=1e-5)
    assert logs["val_accuracy"] == np.mean(probs.argmax(1) == labels) and 0 < logs["val_accuracy"] < 1


def test_validation_reaches_the_observers_and_runs_without_a_test_step(tiny_splits):
    from mnist_core.training.observers import Progress

    seen = []

    class Watch(Progress):
        def epoch_end(self, epoch, logs):
            seen.append((epoch, logs["val_loss"], logs["val_accuracy"]))

        def epoch_model(self, epoch, net):
            seen.append(net.test_function)  # Keras traces one only for its own validation
            return False

    loop.train(TrainConfig.for_model("softmax", epochs=1, batch_size=50), splits=tiny_splits, progress=Watch(),
               save=False)
    assert seen[0][0] == 1 and np.isfinite(seen[0][1]) and seen[1] is None


def test_no_validation_set_means_no_validation_figures(tiny_splits):
    from mnist_core.data.mnist import Splits

    s = tiny_splits
    empty = Splits(s.x_train, s.y_train, s.x_val[:0], s.y_val[:0], s.x_test, s.y_test, sha256="synthetic")
    card = loop.train(TrainConfig.for_model("softmax", epochs=1, batch_size=50), splits=empty, save=False)
    assert "val_loss" not in card["history"] and "loss" in card["history"]
