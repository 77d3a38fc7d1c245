"""Browser tests: the real `streamlit run app.py` server driven by Debian's Chromium.

The server gets its own temporary model store (a one-epoch LeNet-5 named
`default`) and runs folder. Without /usr/bin/chromium the tests are skipped,
unless MNIST_STUDIO_REQUIRE_BROWSER is set (CI; tests.conftest.browser_required), where that is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, browser_required

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_S = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the real server in Debian's Chromium through Playwright")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(models: Path, runs: Path, log: Path, port: int | None = None, extra_env: dict | None = None):
    """Start `streamlit run app.py` and return (process, url) once its health check answers."""
    port = port or free_port()
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(runs),
           "TF_CPP_MIN_LOG_LEVEL": "2", **(extra_env or {})}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--client.showErrorDetails", "full"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + SERVER_START_S
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_S} s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        if browser_required():
            pytest.fail(f"{CHROMIUM} is missing (install Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser_store(tmp_path_factory) -> tuple[Path, Path]:
    from mnist_core.training import loop
    from mnist_core.training.config import TrainConfig

    root = tmp_path_factory.mktemp("browser")
    models, runs = root / "models", root / "runs"
    loop.train(TrainConfig.for_model("lenet5", epochs=1, train_subset=600, name="default"), store_root=models)
    return models, runs


@pytest.fixture(scope="session")
def server(chromium_path, browser_store, tmp_path_factory):
    models, runs = browser_store
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    proc, url = start_server(models, runs, log)
    yield url
    stop_server(proc)
    stop_runs(runs)


def stop_runs(root: Path, grace_s: float = 20) -> None:
    """Training runs live in their own sessions; stop any a failed test left going."""
    from mnist_core.training import rundir as runs_mod

    active = [r for r in runs_mod.list_runs(root) if r.status().get("state") in runs_mod.ACTIVE]
    for run in active:
        run.request_stop()
    deadline = time.time() + grace_s
    while active and time.time() < deadline:
        active = [r for r in active if r.status().get("state") in runs_mod.ACTIVE]
        time.sleep(0.5)
    for run in active:
        pid = run.status().get("pid")
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.base_url = server
    yield tab
    context.close()


def wait_idle(tab, timeout: float = 90, settle: float = 0.6) -> None:
    """Wait until the script has finished: no 'running' indicator for `settle` seconds."""
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        running = tab.locator("[data-testid=stStatusWidget]").count() > 0 or \
            tab.locator("[data-testid=stSkeleton]").count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since >= settle:
            return
        time.sleep(0.2)
    raise AssertionError("the page kept running")


def problems(tab) -> list[str]:
    """Texts of exception and error elements on the page."""
    return tab.locator("[data-testid=stException]").all_inner_texts() + \
        tab.locator("[data-testid=stAlertContentError]").all_inner_texts()


def chart_points(tab, scope: str = "") -> list[list[int]]:
    """Number of x values of every trace of every plotly chart (inside `scope`, a CSS selector)."""
    return tab.evaluate(
        """scope => Array.from(document.querySelectorAll(scope + ' .js-plotly-plot'))
               .map(g => (g.data || []).map(t => (t.x || []).length))""", scope)
