"""A small sweep started from the browser: the parallel-coordinates chart fills in as trials report."""

from playwright.sync_api import expect

from mnist_core.training import sweeps

from .conftest import problems, wait_idle

PARCOORDS_LINES = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .flatMap(g => (g.data || []).filter(t => t.type === 'parcoords'))
    .map(t => (t.dimensions && t.dimensions.length) ? t.dimensions[t.dimensions.length - 1].values.length : 0)"""
TWO_LINES = f"() => {{ const lines = ({PARCOORDS_LINES})(); return lines.length > 0 && lines[0] >= 2; }}"


def test_start_a_sweep_and_watch_the_parallel_coordinates_fill_in(page, browser_store):
    _, runs = browser_store
    page.goto(f"{page.base_url}/sweeps")
    start = page.get_by_role("button", name="Start sweep")
    start.wait_for()
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text="Model").first.click()
    page.keyboard.type("numpy_softmax")
    page.keyboard.press("Enter")
    # numpy_softmax's recipe: 10 epochs, shown once the model switch's rerun has landed
    expect(page.get_by_role("spinbutton", name="Epochs per trial")).to_have_value("10", timeout=30_000)
    for label, value in (("Epochs per trial", 2), ("Training images (0 = all)", 300), ("Trials", 3)):
        field = page.get_by_role("spinbutton", name=label, exact=True)
        field.fill(str(value))
        field.press("Enter")
    wait_idle(page)  # every field's rerun has landed: the click is not lost to one of them
    start.click()
    page.get_by_text("Started sweep").wait_for(timeout=60_000)

    try:
        page.wait_for_function(TWO_LINES, timeout=240_000, polling=1000)
    except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError: say what was seen
        raise AssertionError(f"parallel-coordinates lines seen: {page.evaluate(PARCOORDS_LINES)}; "
                             f"{problems(page)}") from exc
    assert problems(page) == []
    found = sweeps.list_sweeps(runs)
    assert found and found[0].config().model == "numpy_softmax"
    found[0].request_stop()  # no need to wait for the last trial
