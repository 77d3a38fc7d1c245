"""Draw and Batch answer honestly: "not a digit", an uncertainty flag, integer labels, skipped files
in the CSV, a thumbnail per digit of a number, and a drawing that survives a visit to another page."""

import base64
import io

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from mnist_core.handwriting import reading
from tests.hostile.digits import digit_image, encode, number_image

from .conftest import frame_with, open_page, texts

CANVAS = "draw_canvas_0"
SEVEN = [(120, 60), (200, 60), (150, 230)]


def _drawing(*strokes, dot=None, size=(640, 280)) -> dict:
    """A canvas state as the component sends it: white strokes on a transparent layer, as a PNG data URL."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    for points in strokes:
        pen.line(points, fill=(255, 255, 255, 255), width=18, joint="curve")
    if dot:
        x, y = dot
        pen.ellipse((x - 9, y - 9, x + 9, y + 9), fill=(255, 255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    objects = [{"type": "path", "path": [["M", *p[0]], ["L", *p[-1]]]} for p in strokes] + ([{"type": "circle"}] if dot else [])
    return {"drawing": {"raw": {"version": "5.3.0", "objects": objects}, "data": url}, "backgroundFit": None}


def test_a_dot_on_the_canvas_reads_not_a_digit(store):
    at = open_page("draw")
    at.session_state[CANVAS] = _drawing(dot=(320, 140))
    at.run()
    assert not at.exception
    assert at.metric[0].value == "not a digit"
    assert "dot" in texts(at)


def test_the_drawing_survives_a_visit_to_another_page(store):
    at = open_page("draw")
    at.session_state[CANVAS] = _drawing(SEVEN)
    at.run()
    first = at.metric[0].value
    assert first.isdigit()
    open_page("inspect", at)
    open_page("draw", at)
    assert at.session_state["draw_restore"]["objects"], "the canvas is mounted with the last drawing"
    assert at.metric and at.metric[0].value == first  # read again from the kept pixels
    at.button(key="draw_clear").click().run()
    assert "The canvas is empty" in texts(at) and "draw_saved" not in at.session_state


def _upload(at, files):
    at.file_uploader(key="batch_files").set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]


def test_batch_table_and_csv(store, monkeypatch):
    sent = {}
    import streamlit as st

    real = st.download_button

    def keep(label, data, *args, **kwargs):
        sent[label] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", keep)
    half_jpeg = encode(digit_image(4).convert("RGB"), "JPEG")
    at = open_page("batch")
    _upload(at, [("7_seven.png", encode(digit_image(7)), "image/png"),
                 ("loose.png", encode(digit_image(3)), "image/png"),
                 ("number.png", encode(number_image([4, 2, 1])), "image/png"),
                 ("broken.jpg", half_jpeg[:len(half_jpeg) // 2], "image/jpeg")])
    table = frame_with(at, "uncertain")
    assert {"label", "prediction", "confidence", "uncertain", "correct", "note"} <= set(table.columns)
    assert str(table["label"].dtype) == "Int64" and table["label"].iloc[0] == 7
    thumbs = dict(zip(table["file"], table["input"]))
    widths = {f: Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))).width for f, u in thumbs.items()}
    assert widths["number.png"] == 3 * widths["7_seven.png"]  # one thumbnail per digit
    csv = pd.read_csv(io.StringIO(sent["Download results (CSV)"]), dtype=str, keep_default_na=False)
    assert set(csv["label"]) == {"7", ""}  # never 7.0
    skipped = csv[csv["status"] == "skipped"]
    assert list(skipped["file"]) == ["broken.jpg"] and "cut short" in skipped["note"].iloc[0]
    assert "uncertain" in csv.columns


def test_batch_marks_a_non_digit(store):
    dot = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(dot).ellipse((130, 130, 150, 150), fill=0)
    at = open_page("batch")
    _upload(at, [("blot.png", encode(dot), "image/png"), ("7_seven.png", encode(digit_image(7)), "image/png")])
    table = frame_with(at, "uncertain")
    row = table[table["file"] == "blot.png"].iloc[0]
    assert row["prediction"] == "not a digit" and "dot" in row["note"] and pd.isna(row["confidence"])
    assert reading.UNCERTAIN_BELOW < 1 and np.isfinite(reading.UNCERTAIN_BELOW)
