"""The Streamlit server killed while runs go on: after a restart they are shown, live and cancellable,
and a run that waited in the queue starts without the old server."""

import os
import re
import signal
import time

import pytest

from mnist_core.training import rundir

from .conftest import problems, start_server, stop_runs, stop_server
from .test_train import run_panel, start_run


def open_tab(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.base_url = url
    return context, tab


def states(runs) -> dict:
    return {r.config().name: r.status()["state"] for r in rundir.list_runs(runs)}


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_runs_outlive_a_killed_server(browser, browser_store, tmp_path):
    models, _ = browser_store
    runs = tmp_path / "runs"
    env = {"MNIST_STUDIO_MAX_RUNS": "1"}
    first, url = start_server(models, runs, tmp_path / "first.log", extra_env=env)
    try:
        context, tab = open_tab(browser, url)
        start_run(tab, epochs=50, images=20000, name="restart-a")
        run_panel(tab, "restart-a").wait_for()
        start_run(tab, epochs=50, images=20000, name="restart-b")
        run_panel(tab, "restart-b").get_by_text("queued: number 1 in line").wait_for()
        wait_for(lambda: states(runs).get("restart-a") == "running", 120, "restart-a to run")
        context.close()
        os.killpg(first.pid, signal.SIGKILL)  # the server and nothing else: trainings have their own sessions
        first.wait()

        assert states(runs) == {"restart-a": "running", "restart-b": "queued"}
        second, url = start_server(models, runs, tmp_path / "second.log", extra_env=env)
        try:
            context, tab = open_tab(browser, url)
            tab.goto(f"{url}/train")
            panel_a = run_panel(tab, "restart-a")
            panel_a.get_by_text(re.compile(r"epoch \d+/50")).wait_for(timeout=120_000)  # still live
            run_panel(tab, "restart-b").get_by_text("queued: number 1 in line").wait_for()
            panel_a.get_by_role("button", name="Cancel").click()
            wait_for(lambda: states(runs).get("restart-a") == "cancelled", 120, "restart-a to cancel")
            # restart-a's process, ending, starts the run that waited in line (pages only read); Cancel stops it too.
            panel_b = run_panel(tab, "restart-b")
            panel_b.get_by_text(re.compile(r"starting|preparing the model and data|epoch \d+/50")).wait_for(
                timeout=120_000)
            panel_b.get_by_role("button", name="Cancel").click()
            wait_for(lambda: states(runs).get("restart-b") == "cancelled", 180, "restart-b to cancel")
            assert problems(tab) == []
            context.close()
        finally:
            stop_server(second)
    finally:
        if first.poll() is None:
            stop_server(first)
        stop_runs(runs)
    assert not (models / "restart-a").exists() and not (models / "restart-b").exists()
