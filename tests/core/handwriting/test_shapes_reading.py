"""Shapes models on image folders: labels from class-name folders, answers as class names, "not a shape"."""

import io
import json

import numpy as np
import pytest

from mnist_core.data import shapes
from mnist_core.handwriting import not_a_shape
from mnist_core.handwriting.collection import read_collection
from mnist_core.models import loading
from mnist_core.training.config import TrainConfig
from mnist_core.training.loop import train
from tests.core.test_cli import cli, dirs  # noqa: F401 - the fixture


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_class_name_labels_from_folders_and_prefixes():
    names = list(shapes.CLASSES)
    png = _png(shapes.draw_canvas("ellipse", np.random.default_rng(0)))
    coll = read_collection([("Ellipse/a.png", png), ("triangle_b.png", png), ("misc/c.png", png), ("7/d.png", png)],
                           class_names=names)
    assert {it.file: it.label for it in coll.items} == {"Ellipse/a.png": 0, "triangle_b.png": 2, "misc/c.png": None,
                                                         "7/d.png": None}
    assert any("label folders are named ellipse, rectangle" in n for n in coll.notes)
    digits = read_collection([("7/d.png", png), ("ellipse/a.png", png)])  # digits: unchanged
    assert {it.file: it.label for it in digits.items} == {"7/d.png": 7, "ellipse/a.png": None}


@pytest.fixture
def shape_folder(tmp_path):
    folder = tmp_path / "drawings"
    for cls in shapes.CLASSES:
        (folder / cls).mkdir(parents=True)
        for i in range(2):
            shapes.draw_canvas(cls, np.random.default_rng([99, i, len(cls)])).save(folder / cls / f"{i}.png")
    return folder


def test_evaluate_images_with_a_shapes_model(dirs, tmp_path, shape_folder, monkeypatch):  # noqa: F811
    splits = shapes.load_splits({"train": 40, "validation": 2, "test": 2}, cache=tmp_path / "cache")
    config = TrainConfig.for_model("numpy_mlp", task="shapes", epochs=15, name="tiny-shapes")
    train(config, splits=splits, store_root=None)
    report = json.loads(cli("evaluate", "--model", "tiny-shapes", "--images", str(shape_folder), "--json",
                            env=dirs).stdout)
    assert report["class_names"] == list(shapes.CLASSES) and report["n"] == 2 * len(shapes.CLASSES)
    assert {p["label"] for p in report["predictions"]} == set(shapes.CLASSES)
    assert all(p["prediction"] in shapes.CLASSES for p in report["predictions"])
    assert len(report["confusion"]) == len(shapes.CLASSES)
    assert report["accuracy"] > 1 / len(shapes.CLASSES)  # better than chance on drawings it never saw
    text = cli("evaluate", "--model", "tiny-shapes", "--images", str(shape_folder), env=dirs).stdout
    assert "classes: 0 ellipse, 1 rectangle" in text
    out = json.loads(cli("predict", str(shape_folder / "star" / "0.png"), "--model", "tiny-shapes", "--json",
                         env=dirs).stdout)
    assert out[0]["number"] in shapes.CLASSES and len(out[0]["digits"]) == 1  # one shape, however many strokes


def test_not_a_shape_refuses_what_it_was_calibrated_against(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_MODELS", str(tmp_path / "models"))
    splits = shapes.load_splits({"train": 30, "validation": 10, "test": 2}, cache=tmp_path / "cache")
    card = train(TrainConfig.for_model("softmax", task="shapes", epochs=3, name="k"), splits=splits)
    model = loading.load("k")
    rng = np.random.default_rng(0)
    blobs = np.zeros((60, 28, 28, 1), np.float32)
    for b in blobs:  # solid blobs and noise: nothing like a pen stroke
        y, x = rng.integers(4, 14, 2)
        b[y:y + 12, x:x + 12] = 1 if rng.random() < 0.5 else rng.random((12, 12, 1))
    entry = not_a_shape.calibrate(model, splits.x_val, blobs)
    model.card["not_a_shape"] = json.loads(json.dumps(entry))  # as it is stored in the card
    assert entry["others_refused"] > 0.8
    refused = not_a_shape.check(model, blobs[:20])
    assert sum(r is not None for r in refused) >= 15 and all(r is None or r.startswith("not a shape") for r in refused)
    kept = not_a_shape.check(model, splits.x_val)
    assert sum(r is None for r in kept) >= len(kept) - 2
    assert card["task"] == "shapes"
