"""Draw's correction box and Batch's collection (issue 23 item 4): one drawing gets one label, a second click
changes it, Undo takes it back; the collection shows thumbnails and deletes what the user picks."""

from __future__ import annotations

import pytest

from mnist_core.handwriting import personal

from .conftest import open_page, texts
from .test_draw import CANVAS, ONE, SEVEN, _drawing


@pytest.fixture
def collection(tmp_path, monkeypatch):
    root = tmp_path / "collection"
    monkeypatch.setenv("MNIST_STUDIO_COLLECTIONS", str(root))
    return root


def _labels(collection) -> list[int]:
    return sorted(r["label"] for r in personal.items(collection))


def test_one_drawing_gets_one_label_a_second_click_changes_it_and_undo_removes_it(store, collection):
    at = open_page("draw")
    at.session_state[CANVAS] = _drawing(SEVEN)
    at.run()
    at.segmented_control(key="draw_correct_label").set_value("1").run()
    assert _labels(collection) == [1]
    at.segmented_control(key="draw_correct_label").set_value("7").run()
    assert not at.exception
    assert _labels(collection) == [7]  # moved, not saved twice under two labels
    assert "Saved as a **7**" in texts(at) and "Your collection holds 1 drawing(s)." in texts(at)

    at.button(key="draw_correction_undo").click().run()
    assert not at.exception
    assert _labels(collection) == [] and at.session_state["draw_correct_label"] is None
    assert "Your collection is empty so far." in texts(at)

    at.segmented_control(key="draw_correct_label").set_value("7").run()  # labelled again after the undo
    assert _labels(collection) == [7]
    at.session_state[CANVAS] = _drawing(ONE)  # another drawing: a fresh choice, its own file
    at.run()
    assert at.session_state["draw_correct_label"] is None
    at.segmented_control(key="draw_correct_label").set_value("1").run()
    assert _labels(collection) == [1, 7]


def test_the_collection_shows_thumbnails_and_deletes_a_picked_drawing(store, collection):
    import numpy as np

    seven = np.zeros((280, 640, 4), np.uint8)
    seven[60:70, 120:200] = 255
    kept = personal.add(seven, 7, collection)
    gone = personal.add(seven, 1, collection)
    at = open_page("batch")
    at.session_state["collection_box"] = True  # open the expander
    at.run()
    assert not at.exception
    thumbnails = [image for image in at.get("image") if any(c.startswith("#") for c in image.captions)]
    assert len(thumbnails) == 1 and sorted(thumbnails[0].captions) == ["#1 · 1", "#2 · 7"]  # one per drawing
    assert at.button(key="collection_delete").disabled
    pick = at.multiselect(key="collection_pick")
    assert any(gone.name in o and o.startswith("#") for o in pick.options)  # numbered as the thumbnails are
    pick.set_value([f"1/{gone.name}"]).run()
    at.button(key="collection_delete").click().run()
    assert not at.exception
    assert [r["file"] for r in personal.items(collection)] == [f"7/{kept.name}"]
    assert "Deleted 1 drawing(s) from your collection." in texts(at)
    assert any("Your collection: 1 drawing(s)" in e.label for e in at.expander)
