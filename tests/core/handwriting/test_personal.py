"""The personal collection's writers: a drawing's label changes by moving its one file; thumbnails; bad names."""

import numpy as np
import pytest

from mnist_core.handwriting import personal


def _drawing() -> np.ndarray:
    image = np.zeros((280, 640, 4), np.uint8)  # white ink on a transparent layer, as the canvas sends it
    image[40:240, 300:318] = 255
    return image


def test_relabel_moves_the_one_file_to_the_new_label(tmp_path):
    path = personal.add(_drawing(), 1, tmp_path)
    moved = personal.relabel(f"1/{path.name}", 7, tmp_path)
    assert moved == f"7/{path.name}"
    assert [(r["file"], r["label"]) for r in personal.items(tmp_path)] == [(moved, 7)]
    with pytest.raises(FileNotFoundError, match="no longer in your collection"):
        personal.relabel(f"1/{path.name}", 3, tmp_path)


@pytest.mark.parametrize("file", ["../1/x.png", "1/../../etc/passwd", "x", "", None, "10/draw-x.png"])
def test_names_that_are_not_corrections_are_refused(tmp_path, file):
    with pytest.raises(ValueError, match="not a correction"):
        personal.relabel(file, 2, tmp_path)
    with pytest.raises(ValueError, match="not a correction"):
        personal.remove(file, tmp_path)


@pytest.mark.parametrize("label", [-1, 10, "7", 2.0, True, None])
def test_labels_other_than_one_digit_are_refused(tmp_path, label):
    path = personal.add(_drawing(), 1, tmp_path)
    with pytest.raises(ValueError, match="one digit 0-9"):
        personal.relabel(f"1/{path.name}", label, tmp_path)
    assert personal.items(tmp_path)[0]["label"] == 1


def test_a_thumbnail_is_the_ink_cropped_square(tmp_path):
    path = personal.add(_drawing(), 1, tmp_path)
    thumb = personal.thumbnail(f"1/{path.name}", 56, tmp_path)
    assert thumb.shape == (56, 56) and thumb.dtype == np.uint8
    assert thumb.max() == 255 and thumb[:, 26:30].mean() > 150 and thumb[:, :10].max() == 0  # the stroke, centred
