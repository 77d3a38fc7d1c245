"""In Chromium: every shape class drawn with the mouse on the Draw page in Shapes mode is read right.

The strokes come from bench/mouse_shapes.py, a hand of its own (not the
training generator): drawings 0, 1 and 2 of each class, fixed before any
was tried, moved through with the mouse at the page's default pen (18 px).
The reader is the shipped models/shapes, copied into the server's store
beside a digits `default`. bench/shapes_drawn.py measures the same hand on
100 drawings per class (the README has the figure).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from .conftest import REPO, chart_points, problems, start_server, stop_server, wait_idle

sys.path.insert(0, str(REPO / "bench"))
from mouse_shapes import CLASSES, mouse_strokes  # noqa: E402

DRAWINGS = (0, 1, 2)  # of each class


@pytest.fixture(scope="module")
def shapes_server(chromium_path, browser_store, tmp_path_factory):
    digits_models, _ = browser_store
    root = tmp_path_factory.mktemp("shapes-server")
    models = root / "models"
    shutil.copytree(digits_models, models)
    shutil.copytree(REPO / "models" / "shapes", models / "shapes", ignore=shutil.ignore_patterns("cache-*", ".cache-*"))
    proc, url = start_server(models, root / "runs", root / "streamlit.log")
    yield url
    stop_server(proc)


@pytest.fixture
def shapes_page(browser, shapes_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.base_url = shapes_server
    yield tab
    context.close()


def draw(page, origin: tuple[float, float], strokes: list) -> None:
    """Each stroke: press at its first point, move through the others one mouse event each, release."""
    x0, y0 = origin
    for points in strokes:
        page.mouse.move(x0 + points[0][0], y0 + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x0 + x, y0 + y)
        page.mouse.up()


def reading_after_the_last_stroke(page) -> str:
    """The metric once the page has read the whole drawing (each stroke starts a new reading)."""
    metric = page.locator("[data-testid=stMetric]")
    try:
        metric.wait_for()
    except Exception:
        raise AssertionError(page.locator("[data-testid=stMain]").inner_text()) from None
    wait_idle(page, settle=1.5)
    return re.sub(r"^The model reads\s+", "", metric.inner_text().strip())


def switch_to_shapes(page) -> None:
    page.goto(f"{page.base_url}/draw")
    page.get_by_text("The canvas is empty").wait_for()
    # The page measures its column once and reruns (studio_ui/viewport.py); the switch to Shapes was
    # lost for one class in ten in two full runs, most likely a click landing during that rerun, so the
    # click waits for a quiet page and is given once more if the caption does not change.
    wait_idle(page, settle=1.0)
    caption = page.get_by_text("The active shapes model, shapes")
    for attempt in range(2):
        page.locator("[data-testid=stMain]").get_by_text("Shapes", exact=True).click()
        try:
            caption.wait_for(timeout=20_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: click again, once
            wait_idle(page)
    caption.wait_for()
    wait_idle(page)


@pytest.mark.parametrize("cls", CLASSES)
def test_each_shape_drawn_with_the_mouse_is_read_right(shapes_page, cls):
    page = shapes_page
    switch_to_shapes(page)
    read = {}
    for seed in DRAWINGS:
        box = page.locator("canvas").last.bounding_box()
        draw(page, (box["x"], box["y"]), mouse_strokes(cls, seed))
        read[seed] = reading_after_the_last_stroke(page)
        if read[seed] in CLASSES:
            assert chart_points(page)[0] == [len(CLASSES)]  # the probabilities of the nine named classes
        page.get_by_role("button", name="Clear").click()
        page.get_by_text("The canvas is empty").wait_for()
        wait_idle(page)  # Clear mounts a new canvas: strokes made before it is ready are lost
    assert problems(page) == []
    assert read == {seed: cls for seed in DRAWINGS}, f"{cls} drawings {DRAWINGS} read as {read}"


def test_a_scribble_is_not_a_shape(shapes_page):
    page = shapes_page
    switch_to_shapes(page)
    box = page.locator("canvas").last.bounding_box()
    corners = [(150 + 50 * i, 60 if i % 2 == 0 else 220) for i in range(7)]
    zigzag = [(round(a[0] + (b[0] - a[0]) * t / 20), round(a[1] + (b[1] - a[1]) * t / 20))
              for a, b in zip(corners, corners[1:]) for t in range(20)]
    draw(page, (box["x"], box["y"]), [zigzag])
    assert reading_after_the_last_stroke(page) == "not a shape"
    page.get_by_text("This does not look like a shape").wait_for()
    assert problems(page) == []
