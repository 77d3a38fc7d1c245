import numpy as np
import pytest

from mnist_core.models import zoo
from mnist_core.training.config import TrainConfig


@pytest.mark.parametrize("kind", list(zoo.MODELS))
def test_every_model_builds_and_takes_a_training_step(kind, tiny_splits):
    config = TrainConfig.for_model(kind, batch_size=64)
    net = zoo.build(config)
    x, y = tiny_splits.x_train[:64], tiny_splits.y_train[:64]
    assert zoo.MODELS[kind].description
    if zoo.MODELS[kind].backend == "numpy":
        before = net.params()[0].copy()
        loss, _ = net.train_step(x, y, config.lr)
        assert np.isfinite(loss) and not np.allclose(before, net.params()[0])
        return
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in net.get_weights()]
    loss = net.train_on_batch(x, y)
    assert np.isfinite(loss)
    assert any(not np.allclose(a, b) for a, b in zip(before, net.get_weights()))
    assert net(x[:2], training=False).shape == (2, 10)


def test_cnn_is_the_seed_architecture():
    net = zoo.build(TrainConfig.for_model("cnn"))
    assert net.count_params() == 150_858
    kinds = [type(layer).__name__ for layer in net.layers[1:]]
    assert kinds == ["Conv2D", "Activation", "MaxPooling2D", "Dropout", "Conv2D", "Activation", "MaxPooling2D",
                     "Dropout", "Flatten", "Dense", "Activation", "Dropout", "Dense"]


@pytest.mark.parametrize("kind, params", [("softmax", 7_850), ("mlp", 242_762), ("lenet5", 61_706)])
def test_parameter_counts_match_descriptions(kind, params):
    assert zoo.build(TrainConfig.for_model(kind)).count_params() == params
    assert f"{params:,}" in zoo.MODELS[kind].description


def test_options_change_the_graph():
    plain = zoo.build(TrainConfig.for_model("mlp"))
    tuned = zoo.build(TrainConfig.for_model("mlp", dropout=0.3, batch_norm=True))
    names = {type(layer).__name__ for layer in tuned.layers}
    assert {"Dropout", "BatchNormalization"} <= names
    assert "Dropout" not in {type(layer).__name__ for layer in plain.layers}
