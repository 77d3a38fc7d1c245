"""Draw page: the canvas result is read as one digit or a number; empty means no prediction."""

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from .conftest import open_page, texts

CANVAS = "draw_canvas_0"


def _drawing(*strokes, size=(640, 280)) -> dict:
    """A canvas state as the component sends it: white strokes on a transparent layer, as a PNG data URL."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    for points in strokes:
        pen.line(points, fill=(255, 255, 255, 255), width=18, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}] * len(strokes)}, "data": url}, "backgroundFit": None}


SEVEN = [(120, 60), (200, 60), (150, 230)]
ONE = [(330, 50), (330, 230)]


def test_empty_canvas_shows_no_prediction(store):
    at = open_page("draw")
    assert "The canvas is empty" in texts(at)
    assert not at.metric
    assert at.get("bidi_component")


def test_a_drawn_digit_is_read(store):
    at = open_page("draw")
    at.session_state[CANVAS] = _drawing(SEVEN)
    at.run()
    assert not at.exception
    reading = at.metric[0]
    assert reading.label == "The model reads" and len(reading.value) == 1 and reading.value.isdigit()
    assert len(at.get("plotly_chart")) == 1
    x = at.session_state["draw_input"]
    assert np.asarray(x).shape == (28, 28, 1)
    open_page("inspect", at)
    assert "the latest canvas drawing" in at.radio(key="insp_source").options


def test_two_digits_are_read_as_a_number_and_all_models_compared(store):
    at = open_page("draw")
    at.session_state[CANVAS] = _drawing(SEVEN, ONE)
    at.toggle(key="draw_compare").set_value(True)
    at.run()
    assert not at.exception
    assert len(at.metric[0].value) == 2
    compare = at.dataframe[0].value
    assert set(compare["model"]) == {"default", "flat"}
    assert all(len(r) == 2 for r in compare["reads"])


def test_clear_empties_the_canvas(store):
    at = open_page("draw")
    at.session_state[CANVAS] = _drawing(SEVEN)
    at.run()
    at.button(key="draw_clear").click().run()
    assert "The canvas is empty" in texts(at)
    assert "draw_input" not in at.session_state
