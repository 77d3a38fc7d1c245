"""Issue 23 item 11: the shipped model warned about nothing when a drawn Λ read as 1 at 97%. Letters and signs
drawn with the canvas pen (Λ, V, T, X, L, A, H) are refused as "not a digit" at thin, middle and thick pens."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from mnist_core.handwriting import reading
from mnist_core.models import loading

REPO = Path(__file__).resolve().parents[3]

STROKES = {
    "Λ": [[(0.1, 1), (0.5, 0), (0.9, 1)]], "narrow Λ": [[(0.3, 1), (0.5, 0), (0.7, 1)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]], "T": [[(0.05, 0), (0.95, 0)], [(0.5, 0), (0.5, 1)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]], "L": [[(0.15, 0), (0.15, 1), (0.85, 1)]],
    "A": [[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.25, 0.6), (0.75, 0.6)]],
    "H": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.85, 1)], [(0.15, 0.5), (0.85, 0.5)]],
}


def drawn(strokes, pen: int) -> Image.Image:
    """As the Draw page's canvas gives it: white ink on black, 280x280."""
    im = Image.new("L", (280, 280))
    d = ImageDraw.Draw(im)
    for s in strokes:
        d.line([(40 + 200 * x, 40 + 200 * y) for x, y in s], fill=255, width=pen, joint="curve")
    return im


@pytest.fixture(scope="module")
def default():
    return loading.load("default", REPO / "models")


@pytest.mark.parametrize("pen", [8, 14, 24])
@pytest.mark.parametrize("name", list(STROKES))
def test_the_shipped_default_refuses_drawn_letters(default, name, pen):
    result = reading.read_image(default, drawn(STROKES[name], pen))
    number, reason = result.number, result.reason
    assert number is None, (name, pen)
    assert reason.startswith("not a digit"), reason


def test_a_drawn_one_is_still_read(default):
    result = reading.read_image(default, drawn([[(0.5, 0), (0.5, 1)]], 14))
    number = result.number
    assert number == "1"
