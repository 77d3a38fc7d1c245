"""The shapes generator: deterministic per seed, balanced, in MNIST form, cached faithfully."""

import numpy as np
import pytest

from mnist_core.data import shapes
from mnist_core.data.mnist import Splits
from mnist_core.errors import UserError


def test_same_seed_same_drawings_other_seed_others():
    x1, y1 = shapes.generate(2, seed=5)
    x2, y2 = shapes.generate(2, seed=5)
    x3, _ = shapes.generate(2, seed=6)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert shapes.checksum(x1, y1) == shapes.checksum(x2, y2) != shapes.checksum(x3, y1)


def test_classes_balanced_and_in_mnist_form():
    x, y = shapes.generate(3, seed=1)
    assert x.shape == (3 * len(shapes.CLASSES), 28, 28, 1) and x.dtype == np.float32
    assert np.bincount(y, minlength=len(shapes.CLASSES)).tolist() == [3] * len(shapes.CLASSES)
    assert x.min() >= 0 and x.max() <= 1
    assert all(img.max() > 0.9 for img in x)  # every drawing has ink
    assert np.all(x[:, :2].max(axis=(1, 2, 3)) < 0.05) and np.all(x[:, -2:].max(axis=(1, 2, 3)) < 0.05)  # centred


def test_required_classes_present():
    assert {"ellipse", "rectangle", "triangle"} <= set(shapes.CLASSES) and len(shapes.CLASSES) >= 8


def test_splits_cached_and_reloaded_identically(tmp_path):
    sizes = {"train": 2, "validation": 1, "test": 1}
    first = shapes.load_splits(sizes, cache=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    again = shapes.load_splits(sizes, cache=tmp_path)
    assert np.array_equal(first.x_train, again.x_train) and first.sha256 == again.sha256
    assert len(first.x_test) == len(shapes.CLASSES) and first.x_train.shape[1:] == (28, 28, 1)
    assert not np.array_equal(first.x_val, first.x_test[:len(first.x_val)])  # splits come from different seeds


def test_shape_splits_are_the_one_splits_type_with_their_classes(tmp_path, tiny_splits):
    drawn = shapes.load_splits({"train": 1, "validation": 1, "test": 1}, cache=tmp_path)
    assert type(drawn) is Splits and type(tiny_splits) is Splits
    assert drawn.class_names == shapes.CLASSES and drawn.generator_version == shapes.GENERATOR_VERSION
    assert tiny_splits.class_names == tuple("0123456789") and tiny_splits.generator_version is None


def test_broken_cache_file_is_regenerated(tmp_path):
    sizes = {"train": 1, "validation": 1, "test": 1}
    good = shapes.load_splits(sizes, cache=tmp_path)
    for f in tmp_path.glob("*.npz"):
        f.write_bytes(b"not an npz")
    assert shapes.load_splits(sizes, cache=tmp_path).sha256 == good.sha256


def test_sizes_from_env(monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_SIZES", "train=3, test=2")
    assert shapes.sizes_from_env() == {"train": 3, "test": 2}
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_SIZES", "train=x")
    with pytest.raises(UserError, match="must look like"):
        shapes.sizes_from_env()


def test_workers_make_the_same_drawings():
    one = shapes.generate(23, seed=4, workers=1)
    two = shapes.generate(23, seed=4, workers=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])


def test_triangles_may_be_thin_but_not_slivers(monkeypatch):
    monkeypatch.setattr(shapes, "_closed_polygon", lambda corners, rng: corners)  # the corners, before the hand
    angles = [shapes._min_angle(shapes.triangle(np.random.default_rng(i))) for i in range(300)]
    assert min(angles) > 12 and sum(a < 22 for a in angles) >= 15  # version 2 drew none under 22 degrees


def _pens(cls: str, n: int, monkeypatch) -> list:
    """pen width / the drawing's longest side, for n drawings of cls."""
    seen = []
    monkeypatch.setattr(shapes, "_pen_stroke", lambda d, xy, pen, rng: seen[-1].append((xy, pen)))
    out = []
    for i in range(n):
        seen.append([])
        shapes.draw_canvas(cls, np.random.default_rng(i))
        pts = np.vstack([xy for xy, _ in seen[-1]])
        out.append(seen[-1][0][1] / float(np.ptp(pts, axis=0).max()))
    return out


def test_thick_pens_for_closed_shapes_but_lines_stay_long(monkeypatch):
    ellipse, line = _pens("ellipse", 200, monkeypatch), _pens("line", 200, monkeypatch)
    assert sum(p > 0.12 for p in ellipse) >= 20 and sum(p < 0.04 for p in ellipse) >= 40  # thin pens stay common
    assert max(line) <= 0.1
