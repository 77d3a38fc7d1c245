"""Two Streamlit processes behind nginx (`python -m studio_ui.serve --workers 2`), as a class would use them.

Every browser stays with one process (a cookie names it); the gate and the
visitor role hold in each; sessions spread over both draw and read batches
without seeing each other's results; and what processes share on disk is
shared: a run queued by another process is started by the supervisor's one
dispatcher, and the model it saves is offered by both processes. Nothing here
is timed (bench/load.py --workers measures). Without nginx the tests are
skipped, unless MNIST_STUDIO_REQUIRE_BROWSER=1 (CI, which installs it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shutil
import time

import pytest

from bench.load import run_sessions, start_server, stop_server
from studio_ui import gate, proxy

from .conftest import problems, stop_runs, wait_idle

EDITOR, VISITOR = "editor-5d2c8e0a71", "visitor-9b4f3e6a28"
COOKIE = proxy.COOKIE
RUN_WAIT_S = 240  # the training process imports TensorFlow on a busy machine


@pytest.fixture(scope="module")
def proxied(chromium_path, browser_store, tmp_path_factory):
    if proxy.available() is None:
        if os.environ.get("MNIST_STUDIO_REQUIRE_BROWSER") == "1":
            pytest.fail("nginx is missing (apt-get install nginx; .ci/run installs it)")
        pytest.skip("nginx is not installed (apt-get install nginx): the multi-process tests need it")
    root = tmp_path_factory.mktemp("proxied")
    models = root / "models"  # its own copy: a model saved here must not show in other tests' stores
    shutil.copytree(browser_store[0], models)
    env = {gate.TOKEN_ENV: EDITOR, gate.VISITOR_TOKEN_ENV: VISITOR, "MNIST_STUDIO_MAX_RUNS": "1"}
    proc, url = start_server(models, root / "runs", root / "serve.log", workers=2, extra_env=env)
    yield url, models, root / "runs"
    stop_server(proc)
    stop_runs(root / "runs")


def _open(browser, url: str, worker: str | None = None):
    """A new browser (its own cookies); pinned to `worker` by its cookie when given."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    if worker:
        context.add_cookies([{"name": COOKIE, "value": worker, "url": url}])
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    return context, tab


def _worker(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == COOKIE), None)


def _sign_in(tab, url: str, path: str, token: str) -> None:
    tab.goto(f"{url}/{path}")
    tab.get_by_role("button", name="Sign in").wait_for()  # the gate holds in this process too
    tab.goto(f"{url}/{path}{'&' if '?' in path else '?'}token={token}")
    tab.get_by_role("button", name="Sign out").wait_for()
    wait_idle(tab)


@pytest.mark.parametrize("worker", ["w0", "w1"])
def test_each_process_asks_for_the_token_and_keeps_roles(browser, proxied, worker):
    url = proxied[0]
    for token, role, train in ((EDITOR, "an editor", 1), (VISITOR, "a visitor", 0)):
        context, tab = _open(browser, url, worker)
        try:
            _sign_in(tab, url, "draw", token)
            assert tab.get_by_text(f"Signed in as {role}").count() == 1
            assert tab.locator("[data-testid=stSidebarNav] a").filter(has_text="Train").count() == train
            assert _worker(context) == worker  # the cookie kept this browser on the process it named
            assert problems(tab) == []
        finally:
            context.close()


def test_a_cookie_naming_no_process_is_given_one(browser, proxied):
    url = proxied[0]
    context, tab = _open(browser, url, "127.0.0.1:22")
    try:
        tab.goto(url)
        tab.get_by_role("button", name="Sign in").wait_for()
        assert _worker(context) in ("w0", "w1")
    finally:
        context.close()


def test_sessions_on_both_processes_read_their_own_drawings_and_batches(proxied, chromium_path, tmp_path):
    url = proxied[0]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, beside the sync Playwright
        # Warm-up, as bench/load.py does: a process's first reading imports TensorFlow and loads the model.
        pool.submit(asyncio.run, run_sessions(url, 2, 1, tmp_path, chromium_path, token=EDITOR)).result(timeout=600)
        results = pool.submit(asyncio.run, run_sessions(url, 4, 1, tmp_path, chromium_path, token=EDITOR)
                              ).result(timeout=600)
    said = [p for r in results for p in r["problems"] + r["crosstalk"]]
    assert said == [], "\n".join(said)
    assert [len(r["canvas"]) for r in results] == [1] * 4 and [len(r["batch"]) for r in results] == [1] * 4
    assert {r["worker"] for r in results} == {"w0", "w1"}  # least connections: both processes served


def test_a_queued_run_is_started_once_and_its_model_is_offered_by_both(browser, proxied):
    from mnist_core.training import rundir
    from mnist_core.training.config import TrainConfig

    url, models, runs = proxied
    config = TrainConfig.for_model("numpy_softmax", epochs=1, train_subset=300, name="queued-elsewhere")
    run = rundir.RunDir.create(config, runs)  # queued by another process; nobody here dispatches it
    deadline = time.time() + RUN_WAIT_S
    while run.raw_status().get("state") not in ("completed", "failed", "cancelled", "interrupted"):
        assert time.time() < deadline, f"the queued run was never finished: {run.raw_status()}"
        time.sleep(1)
    assert run.raw_status()["state"] == "completed", run.raw_status()
    assert (models / "queued-elsewhere" / "card.json").exists()
    for worker in ("w0", "w1"):
        context, tab = _open(browser, url, worker)
        try:
            _sign_in(tab, url, "draw?model=queued-elsewhere", EDITOR)
            tab.get_by_text("The active model, queued-elsewhere").wait_for()
            assert _worker(context) == worker
        finally:
            context.close()


def test_nginx_sends_streamlits_bundle_itself(browser, proxied):
    """The ~100 JavaScript files a new browser loads come from nginx (the processes never see them): the
    page still works, and every /static/ answer carries nginx's own entity tag. Where
    nginx's workers could not read Streamlit's folder the processes send it, and the page works as well."""
    by_nginx = proxy.static_folder() is not None
    url = proxied[0]
    context, tab = _open(browser, url)
    bundle = []
    tab.on("response", lambda r: bundle.append(r) if "/static/" in r.url else None)
    try:
        _sign_in(tab, url, "draw", VISITOR)
        tab.get_by_text("The canvas is empty").wait_for()
        assert len(bundle) > 20 and all(r.status == 200 for r in bundle)
        # nginx's entity tags are "<mtime>-<size>" in hex; Streamlit's server sends a 32-digit digest
        assert all(bool(re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', r.headers.get("etag") or "")) is by_nginx
                   for r in bundle)
        assert all("immutable" in (r.headers.get("cache-control") or "") for r in bundle)  # cached either way
        scripts = [r for r in bundle if r.url.endswith(".js")]  # a module script as text/plain is not run
        assert scripts and all(r.headers["content-type"].startswith(("application/javascript", "text/javascript"))
                               for r in scripts)
        assert not problems(tab)
    finally:
        context.close()
