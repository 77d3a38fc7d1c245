"""A small sweep started from the browser: the parallel-coordinates chart fills in as trials report."""

import time

from mnist_core.training import sweeps

from .conftest import problems

PARCOORDS_LINES = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .flatMap(g => (g.data || []).filter(t => t.type === 'parcoords'))
    .map(t => (t.dimensions && t.dimensions.length) ? t.dimensions[t.dimensions.length - 1].values.length : 0)"""


def test_start_a_sweep_and_watch_the_parallel_coordinates_fill_in(page, browser_store):
    _, runs = browser_store
    page.goto(f"{page.base_url}/sweeps")
    start = page.get_by_role("button", name="Start sweep")
    start.wait_for()
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text="Model").first.click()
    page.keyboard.type("numpy_softmax")
    page.keyboard.press("Enter")
    epochs, deadline = page.get_by_role("spinbutton", name="Epochs per trial"), time.time() + 30
    while epochs.input_value() != "10" and time.time() < deadline:  # numpy_softmax's recipe: 10 epochs
        time.sleep(0.3)
    assert epochs.input_value() == "10", "the model did not switch to numpy_softmax"
    for label, value in (("Epochs per trial", 2), ("Training images (0 = all)", 300), ("Trials", 3)):
        field = page.get_by_role("spinbutton", name=label, exact=True)
        field.fill(str(value))
        field.press("Enter")
    time.sleep(1)  # let the model switch's rerun land before the click
    start.click()
    page.get_by_text("Started sweep").wait_for(timeout=60_000)

    lines, deadline = [], time.time() + 240
    while time.time() < deadline:
        lines = page.evaluate(PARCOORDS_LINES)
        if lines and lines[0] >= 2:
            break
        time.sleep(1)
    assert lines and lines[0] >= 2, f"parallel-coordinates lines seen: {lines}; {problems(page)}"
    assert problems(page) == []
    found = sweeps.list_sweeps(runs)
    assert found and found[0].config().model == "numpy_softmax"
    found[0].request_stop()  # no need to wait for the last trial
