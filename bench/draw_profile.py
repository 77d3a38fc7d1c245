"""Where one Draw stroke's answer goes: upload, server script, bytes back, browser render.

Starts `streamlit run app.py` on 127.0.0.1 (as bench/load.py does) and one
headless Chromium, opens Draw, and draws --strokes strokes one after another.
For each stroke it records, from the page's websocket: the bytes the browser
sends (the canvas's image), the time until the server's first and last
message of the rerun (its script time, roughly), the bytes sent back, and
the time from the last message to the reading on screen (the browser's
render). Prints the medians.

    .venv/bin/python bench/draw_profile.py [--strokes 8] [--compare]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from load import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

STROKE_WAIT_MS = 60_000


def _watch(tab) -> list[tuple[float, str, int]]:
    """Every websocket frame as (time, 'sent' or 'received', bytes), appended as they happen."""
    frames: list[tuple[float, str, int]] = []

    def on_ws(ws):
        ws.on("framesent", lambda p: frames.append((time.perf_counter(), "sent", len(p))))
        ws.on("framereceived", lambda p: frames.append((time.perf_counter(), "received", len(p))))

    tab.on("websocket", on_ws)
    return frames


def _reading_shows(tab, digits: int) -> None:
    """Wait until the metric reads `digits` parts (one per stroke since the last Clear) and the run is over."""
    tab.wait_for_function(
        """n => { const m = document.querySelector('[data-testid=stMetric]');
                  return m && new RegExp('The model reads\\\\s+[\\\\d?]{' + n + '}$').test(m.innerText.trim()); }""",
        arg=digits, timeout=STROKE_WAIT_MS, polling="raf")


def one_stroke(tab, frames, box, j: int, pid: int) -> dict:
    """Stroke j: a vertical line in the (j mod 4)-th place, after a Clear every fourth stroke; the parts of
    its answer's time."""
    if j % 4 == 0:
        tab.get_by_role("button", name="Clear").click()
        tab.get_by_text("The canvas is empty").wait_for()
        tab.wait_for_timeout(1500)  # the canvas is mounted afresh by Clear
        box = None
        while box is None:
            box = tab.locator("canvas").last.bounding_box()
    x, y = box["x"] + 80 + (j % 4) * 150, box["y"] + 40
    tab.mouse.move(x, y)
    tab.mouse.down()
    tab.mouse.move(x + 3, y + 190, steps=10)
    start = len(frames)
    cpu = cpu_seconds(pid)
    t0 = time.perf_counter()
    tab.mouse.up()
    try:
        _reading_shows(tab, j % 4 + 1)
    except Exception:
        tab.screenshot(path="/tmp/draw_profile_fail.png")
        raise
    t_end = time.perf_counter()
    time.sleep(0.5)  # the rerun's last messages (script finished) may come just after the reading shows
    cpu = cpu_seconds(pid) - cpu
    mine = frames[start:]
    sent = [f for f in mine if f[1] == "sent"]
    got = [f for f in mine if f[1] == "received" and f[0] <= t_end]
    return {"answer": t_end - t0,
            "upload_bytes": sum(f[2] for f in sent),
            "to_upload": (sent[0][0] - t0) if sent else float("nan"),
            "upload_to_first_message": (got[0][0] - sent[0][0]) if got and sent else float("nan"),
            "to_last_message": (got[-1][0] - t0) if got else float("nan"),
            "received_bytes": sum(f[2] for f in mine if f[1] == "received"),
            "render_after_last_message": (t_end - got[-1][0]) if got else float("nan"),
            "server_cpu": cpu}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(url: str, strokes: int, compare: bool, pid: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            frames = _watch(tab)
            tab.goto(f"{url}/draw")
            tab.get_by_text("The canvas is empty").wait_for(timeout=120_000)
            if compare:
                tab.get_by_text("Every saved model's reading").click()
            box = tab.locator("canvas").last.bounding_box()
            one_stroke(tab, frames, box, 0, pid)  # warm-up: the model loads on the first reading
            return [one_stroke(tab, frames, tab.locator("canvas").last.bounding_box(), j, pid)
                    for j in range(strokes)]
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strokes", type=int, default=8)
    parser.add_argument("--compare", action="store_true", help="with 'Every saved model's reading' on")
    parser.add_argument("--models", default=os.environ.get("MNIST_STUDIO_MODELS", str(REPO / "models")))
    args = parser.parse_args()
    from _machine import load

    print(f"load average before: {load()}; {os.cpu_count()} cores; model store {args.models}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mnist-draw-profile-") as tmp:
        proc, url = start_server(Path(args.models), Path(tmp) / "runs", Path(tmp) / "streamlit.log")
        try:
            rows = profile(url, args.strokes, args.compare, proc.pid)
        finally:
            stop_server(proc)
    for key in rows[0]:
        values = [r[key] for r in rows]
        unit = "bytes" if key.endswith("bytes") else "s"  # server_cpu: CPU seconds of the whole server process
        print(f"{key:28} median {statistics.median(values):10.3f} {unit}   "
              f"(min {min(values):.3f}, max {max(values):.3f})")
    print(f"load average after: {load()}; {len(rows)} strokes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
