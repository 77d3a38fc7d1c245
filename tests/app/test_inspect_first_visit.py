"""Inspect's first visit on a fresh clone: the shipped model's test-set view comes from the predictions shipped
beside its card, without loading the model (no TensorFlow, no 10,000 predictions)."""

import json
import shutil

from mnist_core.models import loading

from .conftest import REPO, open_page, texts


def test_the_shipped_default_opens_without_loading_it(tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models" / "default", models / "default")  # as cloned: its kept predictions too
    monkeypatch.setenv("MNIST_STUDIO_MODELS", str(models))
    monkeypatch.setenv("MNIST_STUDIO_RUNS", str(tmp_path / "runs"))

    def no_load(*args, **kwargs):
        raise AssertionError("the test-set view loaded the model: its kept predictions were not used")

    monkeypatch.setattr(loading, "load", no_load)
    at = open_page("inspect")
    card = json.loads((models / "default" / "card.json").read_text())
    errors = round((1 - card["test_accuracy"]) * 10_000)
    assert f"{errors:,} mistakes out of 10,000 MNIST test images" in texts(at)
    assert at.image and len(at.get("plotly_chart")) == 2
