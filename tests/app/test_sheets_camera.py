"""Batch reads filled-in collection sheets (uploaded or from the camera) as a labelled collection; Draw reads a
camera photo like a drawing. st.camera_input takes a JPEG file in AppTest."""

import numpy as np
import pytest
from PIL import Image

from mnist_core.handwriting import sheets
from tests.core.handwriting import sheet_photos as sp
from tests.hostile.digits import digit_image, encode

from .conftest import frame_with, open_page, texts

SHEETS = "Read filled-in sheets"


@pytest.fixture(scope="module")
def sheet_photo() -> tuple[bytes, list]:
    """A photo of the default sheet with 24 boxes written in (rows 0-3, columns 2-7), and those boxes."""
    page = sheets.render(sheets.SheetSpec())
    boxes = [(r, c) for r in range(4) for c in range(2, 8)]
    filled, _ = sp.fill(page, sheets.layout(sheets.SheetSpec()), boxes, seed=4)
    return sp.photograph(filled, seed=21, angle=-13), boxes


def _sheets_mode(at):
    at.radio(key="batch_source").set_value(SHEETS).run()
    assert not at.exception
    return at


def correct(at) -> str:
    return next(m.value for m in at.metric if m.label == "Correct")


def _spoiled(at):
    return next(m for m in at.multiselect if m.label == "Spoiled boxes (left out)")


def test_an_uploaded_sheet_is_cut_evaluated_and_spoiled_boxes_left_out(store, sheet_photo):
    photo, boxes = sheet_photo
    at = _sheets_mode(open_page("batch"))
    assert "No sheets yet" in texts(at)
    at.file_uploader(key="batch_sheet_files").set_value([("IMG_7.jpg", photo, "image/jpeg"),
                                                         ("thumb.jpg", sp.photograph(
                                                             sheets.render(sheets.SheetSpec()), seed=2, angle=4,
                                                             cover=[(0.8, 0.85, 0.2, 0.15)]), "image/jpeg")]).run()
    assert not at.exception
    shown = texts(at)
    assert "Sheets read: 1 of 2" in shown and f"Digits cut out: {len(boxes)}" in shown
    assert f"Empty boxes skipped: {100 - len(boxes)}" in shown
    problems = frame_with(at, "reason")
    assert list(problems["file"]) == ["thumb.jpg"] and "bottom-right marker was not found" in problems["reason"][0]
    assert correct(at).endswith(f" of {len(boxes)}")  # the collection was evaluated
    table = frame_with(at, "confidence")
    assert sorted(table["file"]) == sorted(f"{c}/IMG_7-r{r}c{c}.png" for r, c in boxes)
    assert all(table["label"] == [int(f.split("/")[0]) for f in table["file"]])  # the box's printed label

    _spoiled(at).set_value(["r0c2", "r3c7"]).run()
    assert not at.exception
    assert "Marked spoiled: 2" in texts(at) and correct(at).endswith(f" of {len(boxes) - 2}")
    at.text_input(key=next(t.key for t in at.text_input if t.label == "Writer")).set_value("Ada L.").run()
    table = frame_with(at, "confidence")
    assert len(table) == len(boxes) - 2 and all(f.startswith("Ada_L/") for f in table["file"])
    assert "Ada_L/2/IMG_7-r0c2.png" not in set(table["file"])


def test_a_sheet_from_the_camera_is_read(store, sheet_photo):
    photo, boxes = sheet_photo
    at = _sheets_mode(open_page("batch"))
    at.toggle(key="batch_sheet_camera_on").set_value(True).run()
    at.camera_input(key="batch_sheet_camera").set_value(("shot.jpg", photo, "image/jpeg")).run()
    assert not at.exception
    assert "Sheets read: 1 of 1" in texts(at) and f"Digits cut out: {len(boxes)}" in texts(at)
    assert all(f.endswith(".png") and "/camera-1-r" in f for f in frame_with(at, "confidence")["file"])


def test_a_photo_without_a_sheet_says_why(store):
    at = _sheets_mode(open_page("batch"))
    at.toggle(key="batch_sheet_camera_on").set_value(True).run()
    at.camera_input(key="batch_sheet_camera").set_value(
        ("shot.jpg", encode(digit_image(7, size=400).convert("RGB"), "JPEG"), "image/jpeg")).run()
    assert not at.exception
    assert "Sheets read: 0 of 1" in texts(at)
    assert frame_with(at, "reason")["reason"][0].startswith("no sheet markers found")


def test_the_draw_camera_reads_a_photo_like_a_drawing(store):
    at = open_page("draw")
    at.toggle(key="draw_camera_on").set_value(True).run()
    assert "Take a photo" in texts(at) and not at.metric
    photo = encode(digit_image(3, size=480).convert("RGB"), "JPEG", quality=80)
    at.camera_input(key="draw_camera").set_value(("image.jpg", photo, "image/jpeg")).run()
    assert not at.exception
    assert at.metric[0].label == "The model reads" and at.metric[0].value.isdigit()
    steps = at.expander[0]
    assert steps.label == "How the photo was turned into MNIST's format"
    assert np.asarray(at.session_state["draw_input"]).shape == (28, 28, 1)

    blank = encode(Image.new("RGB", (480, 360), (235, 235, 230)), "JPEG")
    at.camera_input(key="draw_camera").set_value(("image.jpg", blank, "image/jpeg")).run()
    assert not at.exception and not at.metric
    assert "No prediction" in texts(at) and "Photograph a larger or darker digit" in texts(at)

    at.camera_input(key="draw_camera").set_value(("image.jpg", b"\xff\xd8\xff broken", "image/jpeg")).run()
    assert not at.exception and "The photo could not be read" in texts(at)
