"""Fixtures for the hostile-input tests: the generated corpus and a model the CLI can load without TensorFlow."""

import os

import pytest

from mnist_core.models import store
from tests.hostile.digits import template_net
from tests.hostile.make_corpus import build


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """(root, expectations): the corpus is generated anew for every test session."""
    root = tmp_path_factory.mktemp("hostile")
    return root, build(root)


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory):
    """Environment for `python -m mnist_core`: a store holding the template-matching NumPy model 'templates'."""
    models = tmp_path_factory.mktemp("hostile-models")
    store.save("templates", template_net(), {"kind": "numpy_softmax", "backend": "numpy", "description": "template matching"},
               root=models)
    return {**os.environ, "MNIST_STUDIO_MODELS": str(models),
            "MNIST_STUDIO_RUNS": str(tmp_path_factory.mktemp("hostile-runs"))}
