"""In Chromium: a dot on the canvas reads "not a digit", a drawn 7 still reads as a digit, and the
drawing is still there after a visit to another page."""

import re

from .conftest import problems, wait_idle
from .test_draw import stroke


def test_a_dot_is_not_a_digit_and_a_seven_is(page):
    page.goto(f"{page.base_url}/draw")
    page.get_by_text("The canvas is empty").wait_for()
    canvas = page.locator("canvas").last
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, [(x + 320, y + 140), (x + 322, y + 141)])  # a dot
    reading = page.locator("[data-testid=stMetric]")
    reading.wait_for()
    page.wait_for_function(
        """() => /not a digit/.test(document.querySelector('[data-testid=stMetric]')?.innerText)""")
    wait_idle(page)

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("The canvas is empty").wait_for()
    wait_idle(page)  # Clear mounts a new canvas: strokes made before it is ready are lost
    stroke(page, [(x + 120, y + 60), (x + 200, y + 60), (x + 150, y + 230)])  # a 7
    try:
        page.wait_for_function(
            """() => /The model reads\\s+\\d$/.test(document.querySelector('[data-testid=stMetric]')?.innerText.trim())""")
    except Exception:
        raise AssertionError(page.locator("[data-testid=stMain]").inner_text())
    wait_idle(page)
    first = reading.inner_text().strip()

    nav = page.locator("[data-testid=stSidebarNav] a")  # away and back in the same session: the drawing is kept
    nav.filter(has_text="Inspect").click()
    page.wait_for_url(re.compile(r".*/inspect"))
    wait_idle(page)
    nav.filter(has_text="Draw").click()
    page.wait_for_url(re.compile(r".*/draw"))
    reading.wait_for()
    assert re.fullmatch(r"The model reads\s+\d", reading.inner_text().strip())
    assert reading.inner_text().strip() == first
    wait_idle(page)
    assert problems(page) == []
