"""Drawing on the canvas with the mouse gets a prediction; Clear empties it."""

import re

from .conftest import chart_points, problems, wait_idle


def stroke(page, points):
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=10)
    page.mouse.up()


def test_draw_a_digit_and_see_a_prediction(page):
    page.goto(f"{page.base_url}/draw")
    page.get_by_text("The canvas is empty").wait_for()
    canvas = page.locator("canvas").last
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, [(x + 120, y + 60), (x + 200, y + 60), (x + 150, y + 230)])  # a 7
    reading = page.locator("[data-testid=stMetric]")
    reading.wait_for()
    assert re.fullmatch(r"The model reads\s+\d", reading.inner_text().strip())
    wait_idle(page)
    assert chart_points(page) and chart_points(page)[0] == [10]  # all ten class probabilities
    assert page.get_by_text("what the model sees (28x28)").is_visible()

    stroke(page, [(x + 330, y + 50), (x + 330, y + 230)])  # a 1 beside it: a two-digit number
    page.wait_for_function(
        """() => /The model reads\\s+\\d\\d$/.test(document.querySelector('[data-testid=stMetric]')?.innerText.trim())""")
    wait_idle(page)
    assert problems(page) == []

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("The canvas is empty").wait_for()
    assert page.locator("[data-testid=stMetric]").count() == 0
