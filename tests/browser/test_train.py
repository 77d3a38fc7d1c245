"""Training from the browser: the live chart gains points while the run goes; Cancel stops a run."""

import re
import time

from playwright.sync_api import expect

from mnist_core.training import rundir

from .conftest import chart_points, problems


def start_run(page, epochs: int, images: int, name: str, keep: bool = False) -> None:
    page.goto(f"{page.base_url}/train")
    start = page.get_by_role("button", name="Start training")
    start.wait_for()
    # No wait_idle here: the live-runs fragment reruns every 1.5 s, so on a busy machine the page is
    # rarely idle. Widget values typed in are sent along with the Start click's rerun anyway.
    for label, value in (("Epochs", epochs), ("Training images (0 = all 55,000)", images)):
        field = page.get_by_role("spinbutton", name=label)
        field.fill(str(value))
        field.press("Enter")
    name_field = page.get_by_role("textbox", name="Model name")
    name_field.fill(name)
    name_field.press("Enter")
    if keep:  # a run on a subset keeps no model unless asked (a new box for each: wait for it, then tick it)
        box = page.get_by_role("checkbox", name="Keep the model when the run ends")
        expect(box).not_to_be_checked()
        box.check(force=True)
        expect(box).to_be_checked()
    start.click()


def run_panel(page, name: str):
    return page.locator("[class*=st-key-run-]").filter(has_text=name)


def test_live_chart_gains_points_while_the_run_goes(page, browser_store):
    start_run(page, epochs=1, images=30000, name="browser-live", keep=True)
    panel = run_panel(page, "browser-live")
    panel.wait_for(timeout=60_000)
    counts, deadline = [], time.time() + 300
    while time.time() < deadline:
        if panel.count():
            selector = "." + next(c for c in panel.first.get_attribute("class").split() if c.startswith("st-key-run-"))
            points = chart_points(page, selector)
            if points:
                counts.append(points[0][0])  # the per-batch loss trace
        if len(set(counts)) >= 3 or (counts and panel.count() == 0):
            break
        time.sleep(0.5)
    grew = [b for a, b in zip(counts, counts[1:]) if b > a]
    assert len(set(counts)) >= 2 and grew, f"batch points seen over time: {counts}"

    page.get_by_text("completed · test accuracy").first.wait_for(timeout=300_000)
    assert problems(page) == []
    models, _ = browser_store
    assert (models / "browser-live" / "card.json").is_file()


def test_cancel_a_run(page, browser_store):
    start_run(page, epochs=50, images=20000, name="browser-cancel")
    panel = run_panel(page, "browser-cancel")
    # The training process has started (it may still be loading TensorFlow and MNIST).
    panel.get_by_text(re.compile(r"preparing the model and data|epoch \d+/50")).wait_for(timeout=120_000)
    panel.get_by_role("button", name="Cancel").click()
    # The run moves to the Finished list. Other tests share this store and may have cancelled runs of their
    # own: wait on this run's entry.
    finished = page.locator("[data-testid=stExpander]").filter(has_text="browser-cancel")
    finished.get_by_text("cancelled after").first.wait_for(timeout=180_000)
    assert problems(page) == []
    _, runs_root = browser_store
    states = {r.config().name: r.status()["state"] for r in rundir.list_runs(runs_root)}
    assert states["browser-cancel"] == "cancelled"
    models, _ = browser_store
    assert not (models / "browser-cancel").exists()
