"""Many users at once: canvas and Batch latency, ten browser sessions against one session alone.

Starts one `streamlit run app.py` on 127.0.0.1 (the store in MNIST_STUDIO_MODELS
or models/, a temporary runs folder) and one headless Chromium. First one
session alone, then --sessions sessions at once (one browser context each),
every session doing --rounds rounds of: draw k strokes on the canvas and wait
for a k-digit reading, then upload its own ZIP of n labelled MNIST digits and
wait for "Correct: ... of n". k and n differ between sessions, so a session
that saw another's drawing or results fails its check. Prints p50 and p95 of
both answers, alone and under load, with the machine's load average.

    .venv/bin/python bench/load.py [--sessions 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 90_000


def digits_zip(path: Path, n: int, offset: int) -> Path:
    """n labelled MNIST test digits as PNGs named '<label>_<i>.png' (labels from the file name)."""
    from PIL import Image

    from mnist_core.data.mnist import load_mnist

    mnist = load_mnist(allow_download=False)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(offset, offset + n):
            buf = io.BytesIO()
            Image.fromarray(255 - mnist.x_test[i]).save(buf, format="PNG")  # dark ink on white, like a scan
            archive.writestr(f"{int(mnist.y_test[i])}_{i}.png", buf.getvalue())
    return path


def start_server(models: Path, runs: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(runs), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"streamlit did not start:\n{log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def _problems(tab) -> list[str]:
    return (await tab.locator("[data-testid=stException]").all_inner_texts()) + \
        (await tab.locator("[data-testid=stAlertContentError]").all_inner_texts())


async def draw_round(tab, url: str, strokes: int) -> float:
    """Seconds from the last stroke's mouse-up to a reading with one digit per stroke."""
    await tab.goto(f"{url}/draw")
    await tab.get_by_text("The canvas is empty").wait_for()
    box = await tab.locator("canvas").last.bounding_box()
    x, y = box["x"], box["y"]
    for j in range(strokes):  # vertical strokes far apart: one '1' each
        await tab.mouse.move(x + 90 + 130 * j, y + 50)
        await tab.mouse.down()
        await tab.mouse.move(x + 92 + 130 * j, y + 230, steps=12)
        t0 = time.perf_counter()
        await tab.mouse.up()
    await tab.wait_for_function(
        """n => { const m = document.querySelector('[data-testid=stMetric]');
                  return m && new RegExp('The model reads\\\\s+\\\\d{' + n + '}$').test(m.innerText.trim()); }""",
        arg=strokes, timeout=TIMEOUT_MS)
    return time.perf_counter() - t0


async def batch_round(tab, url: str, zip_path: Path, n: int) -> float:
    """Seconds from choosing the ZIP to 'Correct: k of n' for this session's own n images."""
    await tab.goto(f"{url}/batch")
    await tab.get_by_text("Nothing uploaded yet").wait_for()
    t0 = time.perf_counter()
    await tab.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(zip_path))
    await tab.wait_for_function(
        """n => Array.from(document.querySelectorAll('[data-testid=stMetric]'))
                 .some(m => m.innerText.startsWith('Correct') && m.innerText.trim().endsWith('of ' + n))""",
        arg=n, timeout=TIMEOUT_MS)
    return time.perf_counter() - t0


async def session(browser, url: str, index: int, rounds: int, work: Path) -> dict:
    """One user: its own context (cookies, Streamlit session), its own stroke count and ZIP size."""
    strokes, n = 1 + index % 3, 3 + index
    zip_path = digits_zip(work / f"session-{index}.zip", n, offset=100 * index)
    context = await browser.new_context(viewport={"width": 1400, "height": 1600})
    tab = await context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    out = {"index": index, "canvas": [], "batch": [], "problems": []}
    try:
        for r in range(rounds):
            for kind, step in (("canvas", lambda: draw_round(tab, url, strokes)),
                               ("batch", lambda: batch_round(tab, url, zip_path, n))):
                try:
                    out[kind].append(await step())
                except Exception as exc:  # noqa: BLE001 - reported with what the page showed
                    metrics = await tab.locator("[data-testid=stMetric]").all_inner_texts()
                    out["problems"].append(f"session {index} round {r} {kind}: {type(exc).__name__}: "
                                           f"{str(exc).splitlines()[0]}; metrics shown: {metrics}")
                out["problems"] += await _problems(tab)
    finally:
        await context.close()
    return out


async def run_sessions(url: str, sessions: int, rounds: int, work: Path, chromium: str = CHROMIUM) -> list[dict]:
    """`sessions` users at once in one browser; each result lists its latencies and any error texts."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return list(await asyncio.gather(*(session(browser, url, i, rounds, work) for i in range(sessions))))
        finally:
            await browser.close()


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p95 = np.percentile(values, [50, 95])
    return f"{p50:5.2f} / {p95:5.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", default=os.environ.get("MNIST_STUDIO_MODELS", str(REPO / "models")))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "bench"))
    from _machine import load

    before = load()
    print(f"load average (1/5/15 min) before: {before}; {os.cpu_count()} cores; model store {args.models}", flush=True)
    print(f"{'':24} {'canvas answer p50 / p95 s':>26} {'Batch result p50 / p95 s':>26} {'samples':>8}", flush=True)
    errors = []
    with tempfile.TemporaryDirectory(prefix="mnist-load-") as tmp:
        work = Path(tmp)
        proc, url = start_server(Path(args.models), work / "runs", work / "streamlit.log")
        try:
            asyncio.run(run_sessions(url, 1, 1, work))  # warm-up: the first request loads TensorFlow and the model
            for label, sessions in (("1 session alone", 1), (f"{args.sessions} sessions at once", args.sessions)):
                t0 = time.time()
                results = asyncio.run(run_sessions(url, sessions, args.rounds, work))
                canvas = [v for r in results for v in r["canvas"]]
                batch = [v for r in results for v in r["batch"]]
                errors += [p for r in results for p in r["problems"]]
                print(f"{label:24} {percentiles(canvas):>26} {percentiles(batch):>26} {len(canvas):>8}"
                      f"   ({time.time() - t0:.0f} s)", flush=True)
        finally:
            stop_server(proc)
    print(f"load average after: {load()}; errors shown: {len(errors)}")
    for e in errors:
        print("  error:", e[:200])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
