"""`evaluate --model M` scores a shapes model on the generated test split, a digits model on MNIST's."""

import json

from mnist_core.data import shapes
from mnist_core.models import store
from mnist_core.models.numpy_nets import NumpyNet
from tests.core.test_cli import cli, dirs  # noqa: F401 - the fixture


def test_a_shapes_model_is_evaluated_on_the_generated_test_split(dirs, tmp_path):  # noqa: F811
    store.save("sh", NumpyNet((784, 8, 9), seed=0), {"backend": "numpy", "kind": "numpy_mlp", "task": "shapes"})
    env = {**dirs, "MNIST_STUDIO_SHAPES_SIZES": "test=2", "MNIST_STUDIO_SHAPES_CACHE": str(tmp_path / "cache")}
    report = json.loads(cli("evaluate", "--model", "sh", "--json", env=env).stdout)
    assert report["n"] == 18 and report["task"] == "shapes" and report["test_set"] == "generated test drawings"
    assert len(report["confusion"]) == 9 and report["class_names"] == list(shapes.CLASSES)
    text = cli("evaluate", "--model", "sh", env=env).stdout
    assert "model 'sh' on the generated test drawings: accuracy" in text and "(" in text and "/18, 95% CI" in text
    assert "classes: 0 ellipse, 1 rectangle, 2 triangle" in text
