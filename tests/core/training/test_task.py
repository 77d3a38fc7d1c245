"""The task (digits or shapes) through config, zoo, training, cards, the store and the CLI."""

import json

import numpy as np
import pytest

from mnist_core import tasks
from mnist_core.data import shapes
from mnist_core.models import loading, zoo
from mnist_core.training.config import ConfigError, TrainConfig, class_names
from tests.core.test_cli import cli, dirs  # noqa: F401 - the fixture


def test_task_validated_and_round_trips():
    c = TrainConfig.for_model("lenet5", task="shapes").validate()
    assert TrainConfig.from_json(c.to_json()).task == "shapes"
    old = c.to_dict()
    old.pop("task")
    assert TrainConfig.from_dict(old).task == "digits"  # a config saved before tasks
    with pytest.raises(ConfigError, match="task must be one of digits, shapes"):
        TrainConfig(task="letters").validate()


def test_class_names_per_task_and_old_cards():
    assert class_names("digits") == tuple("0123456789") and class_names("shapes") == shapes.CLASSES
    assert loading.card_class_names({"config": {"model": "cnn"}}) == list("0123456789")
    assert tasks.of_card({"config": {"task": "shapes"}}) is tasks.SHAPES_TASK
    assert loading.card_class_names({"task": "shapes"}) == list(shapes.CLASSES)


@pytest.mark.parametrize("model", ["softmax", "fast", "numpy_mlp"])
def test_zoo_builds_the_tasks_outputs(model):
    net = zoo.build(TrainConfig.for_model(model, task="shapes"))
    out = net.predict_proba(np.zeros((2, 28, 28, 1), np.float32)) if zoo.MODELS[model].backend == "numpy" \
        else net(np.zeros((2, 28, 28, 1), np.float32))
    assert np.asarray(out).shape == (2, len(shapes.CLASSES))


def test_cli_trains_a_shapes_model_that_round_trips(dirs, tmp_path, monkeypatch):  # noqa: F811
    env = {**dirs, "MNIST_STUDIO_SHAPES_SIZES": "train=12,validation=2,test=3",
           "MNIST_STUDIO_SHAPES_CACHE": str(tmp_path / "cache")}
    out = cli("train", "--task", "shapes", "--model", "softmax", "--epochs", "2", "--name", "sh", "--json", "--now",
              env=env)
    result = json.loads(out.stdout)
    assert result["task"] == "shapes" and result["name"] == "sh"
    monkeypatch.setenv("MNIST_STUDIO_MODELS", dirs["MNIST_STUDIO_MODELS"])
    model = loading.load("sh")
    assert model.task == "shapes" and model.class_names == list(shapes.CLASSES)
    assert model.card["config"]["task"] == "shapes"
    gen = model.card["shapes_generator"]
    assert gen["version"] == shapes.GENERATOR_VERSION and len(gen["sha256"]) == 64
    assert model.card["dataset_sha256"] == gen["sha256"] and len(model.card["confusion"]) == len(shapes.CLASSES)
    assert model.predict_proba(np.zeros((1, 28, 28, 1), np.float32)).shape == (1, len(shapes.CLASSES))
    assert model.predict_proba(np.zeros((0, 28, 28, 1), np.float32)).shape == (0, len(shapes.CLASSES))
