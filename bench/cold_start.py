"""Cold start: from `streamlit run app.py` serving to the Home page fully drawn in Chromium.

    python bench/cold_start.py [--repeats 3] [--port 0]

Each repeat starts a fresh server (so nothing is cached or imported yet),
waits for its health check ("server ready"), then opens the Home page in an
already running headless Chromium and measures until the page is fully
rendered: title, dataset numbers, leaderboard table and page links drawn, and
the script finished. Also checks that the server has not loaded TensorFlow
(the Home page must not import it). Prints every repeat and the median.
Target: under 3 s.

As a reference on the same machine and load, the same is measured for a
one-line Streamlit app (st.title only): the floor any Streamlit page pays for
its frontend bundle and websocket. The difference is what MNIST Studio adds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGET_S = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REFERENCE_APP = 'import streamlit as st\nst.title("MNIST Studio")\n'


def start_server(port: int, log, script: Path) -> tuple[subprocess.Popen, float]:
    """Start the server; returns it and the seconds until its health check answered."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=script.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    while time.perf_counter() - t0 < 60:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as reply:
                if reply.read().strip() == b"ok":
                    return proc, time.perf_counter() - t0
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise SystemExit("the server did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def tensorflow_loaded(pid: int) -> bool:
    try:
        return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def home_rendered(page, reference: bool = False) -> bool:
    """Everything the Home page draws is on screen.

    The page links are the script's last elements, so once all six are drawn
    the first run has finished; the table and metrics must be drawn too, and
    no element may still be a loading skeleton. (The status widget is no
    guide: the active-runs fragment reruns every few seconds.)"""
    if reference:
        return page.evaluate("""() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes('MNIST'))""")
    return page.evaluate("""() => {
        const q = s => document.querySelectorAll(s).length;
        const h1 = [...document.querySelectorAll('h1')].some(h => h.innerText.includes('MNIST Studio'));
        return h1 && q('[data-testid=stMain] [data-testid=stPageLink]') >= 6 && q('[data-testid=stMetric]') >= 4
            && (q('[data-testid=stDataFrame] canvas') >= 1 || q('[data-testid=stAlert]') >= 1)
            && q('[data-testid=stSkeleton]') === 0;
    }""")


def measure(browser, port: int, log, script: Path) -> dict:
    proc, ready_s = start_server(port, log, script)
    reference = script.name != "app.py"
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
        first_title = None
        while time.perf_counter() - t0 < 60:
            if first_title is None and page.locator("h1", has_text="MNIST Studio").count():
                first_title = time.perf_counter() - t0
            if home_rendered(page, reference):
                break
            time.sleep(0.02)
        else:
            raise SystemExit("the Home page did not finish rendering within 60 s")
        rendered = time.perf_counter() - t0
        page.close()
        return {"server_ready_s": ready_s, "title_s": first_title or rendered, "rendered_s": rendered,
                "tensorflow": tensorflow_loaded(proc.pid)}
    finally:
        stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"cold_start: skipped, {CHROMIUM} is not installed")
        return 0
    from playwright.sync_api import sync_playwright

    results, floor = [], []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "log", "wb") as log:
        reference = Path(tmp) / "reference_app.py"
        reference.write_text(REFERENCE_APP)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(args.repeats):
            # Interleaved, so a change in machine load hits both alike.
            floor.append(measure(browser, args.port or free_port(), log, reference)["rendered_s"])
            r = measure(browser, args.port or free_port(), log, REPO / "app.py")
            results.append(r)
            print(f"repeat {i + 1}: server ready after {r['server_ready_s']:.2f} s; Home title after "
                  f"{r['title_s']:.2f} s, fully rendered after {r['rendered_s']:.2f} s "
                  f"(one-line reference app: {floor[-1]:.2f} s); "
                  f"TensorFlow loaded in the server: {'yes' if r['tensorflow'] else 'no'}")
        browser.close()
    rendered = statistics.median(r["rendered_s"] for r in results)
    title = statistics.median(r["title_s"] for r in results)
    base = statistics.median(floor)
    print(f"cold start (server ready -> Home fully rendered in Chromium), median of {len(results)}: "
          f"{rendered:.2f} s (title {title:.2f} s); one-line Streamlit app {base:.2f} s, "
          f"ratio {rendered / base:.2f}; target < {TARGET_S:.0f} s: {'met' if rendered < TARGET_S else 'MISSED'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if any(r["tensorflow"] for r in results):
        print("cold_start: TensorFlow was imported on the Home page path")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
