"""bench/mouse_shapes.py (the second hand) and bench/shapes_drawn.py (its figure) on tiny settings."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import mouse_shapes  # noqa: E402
import shapes_drawn  # noqa: E402


def test_the_same_seed_draws_the_same_strokes_inside_the_canvas():
    for cls in mouse_shapes.CLASSES:
        strokes = mouse_shapes.mouse_strokes(cls, 3)
        assert strokes == mouse_shapes.mouse_strokes(cls, 3) != mouse_shapes.mouse_strokes(cls, 4)
        pts = np.array([p for s in strokes for p in s])
        assert pts.min() >= mouse_shapes.MARGIN and (pts.max(0) <= np.array(mouse_shapes.CANVAS) - 8).all()
        assert all(len(s) >= 2 and all(a != b for a, b in zip(s, s[1:])) for s in strokes)  # moves, never repeats
    assert len(mouse_shapes.mouse_strokes("cross", 0)) == 2  # two strokes


def test_its_classes_are_the_generators():
    from mnist_core.data import shapes

    assert mouse_shapes.CLASSES == shapes.CLASSES


def test_the_canvas_path_runs_through_midpoints_like_the_freehand_brush():
    path = mouse_shapes.canvas_path([(0, 0), (10, 0), (10, 10)], samples=2)
    # M (0,0); Q ctrl (0,0) to (5,0); Q ctrl (10,0) to (10,5); L (10,10)
    assert path.tolist() == [[0, 0], [1.25, 0], [5, 0], [8.75, 1.25], [10, 5], [10, 10]]
    layer = mouse_shapes.render([[(100, 100), (200, 100)]], pen=10)
    assert layer.shape == (280, 640, 4) and layer[100, 150, 3] == 255 and layer[100, 50, 3] == 0
    assert layer[100, 204, 3] == 255 and layer[100, 206, 3] == 0  # a round cap of radius 5 past the end


class Says:
    """A stand-in shapes model that reads every drawing as one class."""

    def __init__(self, said: str | None):
        self.said = said
        self.class_names = list(mouse_shapes.CLASSES)


def test_measure_counts_not_a_shape_as_wrong(monkeypatch):
    from mnist_core.handwriting import reading

    def read(model, image):
        return reading.Reading(model.said, None if model.said else "not a shape (no)", ())

    monkeypatch.setattr(reading, "read_image", read)
    right = shapes_drawn.measure(Says("triangle"), 2, 18, 18)
    assert right["n"] == 18 and right["correct"] == 2 and right["per_class"]["triangle"] == 1.0
    assert right["per_class"]["ellipse"] == 0.0 and right["confusion"][0][2] == 2 and right["rejected"] == 0
    refused = shapes_drawn.measure(Says(None), 1, 10, 30)
    assert refused["correct"] == 0 and refused["rejected"] == 9 and refused["confusion"][4][9] == 1
    assert refused["wrong"][0]["read"] == "not a shape (no)"


@pytest.mark.slow
def test_the_script_prints_its_figures_for_the_shipped_model():
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(REPO / "models")}  # the shipped model, read only
    out = subprocess.run([sys.executable, "bench/shapes_drawn.py", "--per-class", "1", "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["n"] == 9 and result["model"] == "shapes" and len(result["confusion"]) == 9
