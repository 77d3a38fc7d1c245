"""Many users at once: canvas and Batch latency, N browser sessions against one session alone.

Starts the studio on 127.0.0.1 (the store in MNIST_STUDIO_MODELS or models/, a
temporary runs folder): one `streamlit run app.py`, or with --workers N that
many Streamlit processes behind nginx (`python -m studio_ui.serve --workers N`).
Then one headless Chromium: first one session alone, then each --sessions
count at once (one browser context each), every session doing --rounds
rounds of: draw k strokes on the canvas and wait for a k-digit reading, then
upload its own ZIP of n labelled MNIST digits and wait for "Correct: ... of n".
k and n differ between sessions, so a session that saw another's drawing or
results fails its check: a failed wait that shows another count is reported
as cross-talk, any other failure or error on the page as an error. Prints
p50 and p95 of both answers, errors and cross-talk for each count, with the
machine's load average.

    .venv/bin/python bench/load.py [--sessions 10 20 30] [--rounds 3] [--workers 1] [--clients-behind]

--clients-behind runs the browsers (and this script) under Linux's SCHED_IDLE policy once the studio is
up: they get the cores whenever the studio's processes leave them idle, never before. In a class each
student's browser runs on its own device; here the ten to thirty tabs would otherwise take most of the two
cores the studio is measured on. (A plain nice does not hold: Chromium sets its own processes' niceness.)
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
from collections import Counter
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


def start_server(models: Path, runs: Path, log: Path, workers: int = 1,
                 extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """The studio on a free 127.0.0.1 port: one Streamlit process, or `workers` of them behind nginx."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(runs), "TF_CPP_MIN_LOG_LEVEL": "2",
           **(extra_env or {})}
    if workers > 1:
        cmd = [sys.executable, "-m", "studio_ui.serve", "--workers", str(workers), "--host", "127.0.0.1",
               "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(900):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"the studio did not start:\n{log.read_text()[-2000:]}")


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


async def draw_round(tab, url: str, strokes: int, query: str = "") -> float:
    """Seconds from the last stroke's mouse-up to a reading with one digit per stroke."""
    await tab.goto(f"{url}/draw{query}")
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


async def batch_round(tab, url: str, zip_path: Path, n: int, query: str = "") -> float:
    """Seconds from choosing the ZIP to 'Correct: k of n' for this session's own n images."""
    await tab.goto(f"{url}/batch{query}")
    await tab.get_by_text("Nothing uploaded yet").wait_for()
    t0 = time.perf_counter()
    await tab.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(zip_path))
    await tab.wait_for_function(
        """n => Array.from(document.querySelectorAll('[data-testid=stMetric]'))
                 .some(m => m.innerText.startsWith('Correct') && m.innerText.trim().endsWith('of ' + n))""",
        arg=n, timeout=TIMEOUT_MS)
    return time.perf_counter() - t0


def _crosstalk(kind: str, metrics: list[str], strokes: int, n: int) -> bool:
    """Whether what a session shows after a failed wait is another session's: more digits than it drew, or
    a score out of another ZIP's size."""
    if kind == "canvas":
        counts = [len(m.group(1)) for t in metrics if (m := re.search(r"The model reads\s+([\d?]+)$", t.strip()))]
        return any(c > strokes for c in counts)
    outs = [int(m.group(1)) for t in metrics if (m := re.search(r"^Correct.*of (\d+)$", t.strip(), re.S))]
    return any(o != n for o in outs)


async def session(browser, url: str, index: int, rounds: int, work: Path, token: str | None = None) -> dict:
    """One user: its own context (cookies, Streamlit session), its own stroke count and ZIP size; signed in
    with `token` on every page it opens when given (a page load is a new Streamlit session)."""
    strokes, n = 1 + index % 4, 3 + index
    zip_path = digits_zip(work / f"session-{index}.zip", n, offset=100 * index)
    context = await browser.new_context(viewport={"width": 1400, "height": 1600})
    tab = await context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    out = {"index": index, "canvas": [], "batch": [], "problems": [], "crosstalk": [], "worker": None}
    try:
        for r in range(rounds):
            query = f"?token={token}" if token else ""
            for kind, step in (("canvas", lambda: draw_round(tab, url, strokes, query)),
                               ("batch", lambda: batch_round(tab, url, zip_path, n, query))):
                try:
                    out[kind].append(await step())
                except Exception as exc:  # noqa: BLE001 - reported with what the page showed
                    metrics = await tab.locator("[data-testid=stMetric]").all_inner_texts()
                    said = (f"session {index} round {r} {kind}: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0]}; metrics shown: {metrics}")
                    out["crosstalk" if _crosstalk(kind, metrics, strokes, n) else "problems"].append(said)
                out["problems"] += await _problems(tab)
        out["worker"] = next((c["value"] for c in await context.cookies() if c["name"] == "mnist_studio_worker"),
                             None)  # which process served it, behind the proxy
    finally:
        await context.close()
    return out


async def run_sessions(url: str, sessions: int, rounds: int, work: Path, chromium: str = CHROMIUM,
                       token: str | None = None) -> list[dict]:
    """`sessions` users at once in one browser; each result lists its latencies and any error texts."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return list(await asyncio.gather(*(session(browser, url, i, rounds, work, token)
                                               for i in range(sessions))))
        finally:
            await browser.close()


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p95 = np.percentile(values, [50, 95])
    return f"{p50:5.2f} / {p95:5.2f}"


def _report(label: str, results: list[dict], seconds: float) -> None:
    canvas = [v for r in results for v in r["canvas"]]
    batch = [v for r in results for v in r["batch"]]
    errors = sum(len(r["problems"]) for r in results)
    crosstalk = sum(len(r["crosstalk"]) for r in results)
    workers = Counter(r["worker"] for r in results if r["worker"])
    spread = f"  processes {dict(sorted(workers.items()))}" if workers else ""
    print(f"{label:24} {percentiles(canvas):>26} {percentiles(batch):>26} {len(canvas):>8} {errors:>7} "
          f"{crosstalk:>10}   ({seconds:.0f} s){spread}", flush=True)


def measure(url: str, counts: list[int], rounds: int, work: Path) -> list[str]:
    """One session alone, then each count of sessions at once; every problem and cross-talk, as text."""
    said = []
    for label, sessions in [("1 session alone", 1)] + [(f"{k} sessions at once", k) for k in counts]:
        t0 = time.time()
        results = asyncio.run(run_sessions(url, sessions, rounds, work))
        _report(label, results, time.time() - t0)
        said += [p for r in results for p in r["problems"]] + [f"cross-talk: {c}" for r in results for c in r["crosstalk"]]
    return said


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10], help="session counts, each run in turn")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="Streamlit processes (2 or more: behind nginx)")
    parser.add_argument("--clients-behind", action="store_true",
                        help="run the browsers under SCHED_IDLE, behind the studio's processes (Linux)")
    parser.add_argument("--models", default=os.environ.get("MNIST_STUDIO_MODELS", str(REPO / "models")))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "bench"))
    from _machine import load

    print(f"load average (1/5/15 min) before: {load()}; {os.cpu_count()} cores; model store {args.models}; "
          f"{args.workers} Streamlit process(es){' behind nginx' if args.workers > 1 else ''}; "
          f"browsers {'behind the studio (SCHED_IDLE)' if args.clients_behind else 'beside the studio'}", flush=True)
    print(f"{'':24} {'canvas answer p50 / p95 s':>26} {'Batch result p50 / p95 s':>26} {'samples':>8} {'errors':>7} "
          f"{'cross-talk':>10}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mnist-load-") as tmp:
        work = Path(tmp)
        proc, url = start_server(Path(args.models), work / "runs", work / "streamlit.log", args.workers)
        if args.clients_behind:  # the studio is started; the browsers start later, from here, and inherit it
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        try:
            # Warm-up: each process's first request loads TensorFlow and the model.
            asyncio.run(run_sessions(url, args.workers, 1, work))
            said = measure(url, args.sessions, args.rounds, work)
        finally:
            stop_server(proc)
    print(f"load average after: {load()}; problems shown: {len(said)}")
    for e in said:
        print("  ", e[:240])
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main())
