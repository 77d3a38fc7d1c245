"""Every page's first and second visit, timed in Chromium on a running `streamlit run app.py`.

    python bench/pages.py [--finished 100] [--pages inspect,train] [--models DIR] [--drop-kept] [--scripts]

The server runs from a fresh clone: a copy of the working tree's files that
git does not ignore, in a temporary folder, so nothing is cached: no
__pycache__, no predictions beside the cards but the shipped ones, no
shapes test split on disk, no runs, no collections; the caller's data and
cache settings (NOT_PASSED) are not passed on. The server is
started and its Home page opened once, so Streamlit itself is warm; then,
for each page:
- first visit: the page opened for the first time on this server, in a new
  browser context (its imports, loaded models and caches are cold);
- second visit: the same page again in another new context (a new tab of
  another user: only the server's caches are warm).
A visit ends when the page's last element is drawn and the script has
stopped running (no running indicator, no loading skeleton). For Draw the
time its canvas is on screen is printed too (the model loads after it). Data,
Models and Inspect open on a tab without charts or the model; their chart tab
(Class balance, Learning curves, Look inside: TensorFlow and the model) is
then clicked and timed from the click until it is drawn.

--models DIR puts a copy of another model store in the clone's models/;
--drop-kept removes every kept prediction file, the shipped ones included,
so Inspect's first visit includes predicting the test set (a model nobody
has opened there yet). --finished N measures
the Train page again on a server whose runs folder holds N finished runs
(each with a 10-epoch log), beside the one with none. Prints one line per
page and visit, the targets (every page under 1.5 s on a second visit, none
over 3 s on a first) and the load average.

--scripts first times each page's script alone, as AppTest runs it, each in a
fresh process on the clone (so each page is the first one that process
serves, which the browser's fixed page order hides: a page visited after Draw
finds the model loaded): wall and CPU seconds, and whether it imported
TensorFlow. CPU seconds are the figure that survives a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_start import CHROMIUM, CHROMIUM_ARGS, REPO, free_port, home_rendered  # noqa: E402

sys.path.insert(0, str(REPO))

SECOND_TARGET_S, FIRST_TARGET_S = 1.5, 3.0
PAGES = ("", "data", "train", "sweeps", "models", "draw", "inspect", "batch")
# The element each page draws last (besides the script having finished).
DONE = {
    "inspect": "text=Most confident mistakes",  # its test-set tab; Look inside is timed as a TABS click
    "models": "text=/Delete '|cannot be deleted here|Export/",
    "train": "text=/finished runs|will be listed here/",
    "draw": "[data-testid=stBidiComponentIsolated], iframe",  # the canvas component
    "batch": "[data-testid=stFileUploader]",
}
# What a user can already use before the page has finished: (what, its element).
TOP = {"draw": ("canvas", DONE["draw"])}
# Lazy tabs, drawn only when clicked: (the tab, what it draws last). Timed from the click.
TABS = {"data": ("Class balance", ".js-plotly-plot"),
        "models": ("Learning curves", ".js-plotly-plot >> nth=1"),
        "inspect": ("Look inside", "text=/Filters of the first layer|has no convolutional layers|No saliency map/")}


# The caller's own data, stores and caches: a fresh clone's server uses the folders inside the clone.
NOT_PASSED = ("MNIST_PATH", "MNIST_STUDIO_COLLECTIONS", "MNIST_STUDIO_SHAPES_CACHE", "MNIST_STUDIO_SHAPES_SIZES",
              "MNIST_STUDIO_MAX_RUNS", "MNIST_STUDIO_BF16")


def fresh_clone(dest: Path, repo: Path = REPO, models: Path | None = None, drop_kept: bool = False) -> Path:
    """dest holding what `git clone` would if the working tree were committed: its files as they are now,
    tracked or new, never what git ignores (no __pycache__, runs, collections or shapes cache; predictions
    only where the repo ships them). `models` replaces the clone's model store with a copy of that one."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                            capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = repo / rel
        if src.is_file() and not src.is_symlink():  # a tracked file deleted in the working tree is not cloned
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    if models is not None:
        shutil.rmtree(dest / "models", ignore_errors=True)
        shutil.copytree(models, dest / "models", ignore=shutil.ignore_patterns(".tmp-*", ".trash-*", ".deleted-*"))
    if drop_kept:
        for cached in (dest / "models").glob("*/cache-*"):
            cached.unlink()
    return dest


def start_server(port: int, models: Path, runs: Path, log, script: Path = REPO / "app.py"):
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    env.update({"MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(runs), "TF_CPP_MIN_LOG_LEVEL": "2"})
    env.setdefault("MNIST_STUDIO_REAL_DATA", str(REPO.parent / "shared" / "data" / "real"))  # beside the repo, not the clone
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=script.parent, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as reply:
                if reply.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer within 90 s")


def stop_server(proc) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, OSError):
        pass
    except Exception:  # noqa: BLE001 - a server that will not stop is killed
        os.killpg(proc.pid, signal.SIGKILL)


def _idle(tab) -> bool:
    return not tab.locator("[data-testid=stStatusWidget]").count() and not tab.locator(
        "[data-testid=stSkeleton]").count()


def _drawn_then_idle(tab, ready, t0: float, timeout: float, what: str) -> float:
    """Seconds from t0 until ready() holds and Streamlit is idle, and stays so for half a second."""
    while time.perf_counter() - t0 < timeout:
        if ready() and _idle(tab):
            done = time.perf_counter() - t0
            time.sleep(0.5)  # it must stay finished: a rerun starting now would not count as drawn
            if _idle(tab):
                return done
        time.sleep(0.02)
    raise SystemExit(f"{what} was not drawn within {timeout:.0f} s")


def visit(context, url: str, path: str, timeout: float = 120, reference: bool = False) -> dict:
    """Open url/path in a new tab (a new session); seconds until drawn (and until its TOP part is), then
    for a page with a lazy tab, seconds from a click on that tab until the tab is drawn."""
    tab = context.new_page()
    try:
        t0, top = time.perf_counter(), [None]

        def ready() -> bool:
            if path in TOP and top[0] is None and tab.locator(TOP[path][1]).count():
                top[0] = time.perf_counter() - t0
            return home_rendered(tab, reference) if path == "" else (
                tab.locator("h1").count() > 0 and (path not in DONE or tab.locator(DONE[path]).count() > 0))

        tab.goto(f"{url}/{path}", wait_until="commit")
        done = _drawn_then_idle(tab, ready, t0, timeout, f"/{path}")
        # The top part may appear between ready()'s two looks: then it was there when the page was done.
        out = {"s": done, "top_s": done if path in TOP and top[0] is None else top[0], "tab_s": None}
        if path in TABS:
            label, last = TABS[path]
            t1 = time.perf_counter()
            tab.get_by_role("tab", name=label).click()
            out["tab_s"] = _drawn_then_idle(tab, lambda: tab.locator(last).count() > 0, t1, timeout,
                                            f"/{path}'s {label} tab")
        out["errors"] = tab.locator("[data-testid=stException]").count()
        return out
    finally:
        tab.close()


def fake_finished_runs(root: Path, n: int, epochs: int = 10, steps: int = 430) -> None:
    """n finished runs as the training process leaves them: a log of throttled batch and epoch events."""
    from mnist_core.training.config import TrainConfig
    from mnist_core.training.rundir import RunDir

    for i in range(n):
        run = RunDir.create(TrainConfig.for_model("lenet5", epochs=epochs, name=f"bench-{i:03d}"), root,
                            run_id=f"20260101-{i:06d}-lenet5-bench")
        t, lines = time.time() - 3600, []
        lines.append({"type": "plan", "t": t, "epochs": epochs, "steps_per_epoch": steps, "train_size": 55000})
        for epoch in range(1, epochs + 1):
            for step in range(1, steps + 1, 20):  # the logger's throttle keeps about one in twenty
                g = (epoch - 1) * steps + step
                lines.append({"type": "batch", "t": t + g * 0.01, "epoch": epoch, "step": step, "global_step": g,
                              "loss": 1.0 / g ** 0.5, "accuracy": 1 - 0.5 / g ** 0.5, "elapsed": g * 0.01})
            lines.append({"type": "epoch", "t": t + epoch, "epoch": epoch, "loss": 0.1, "accuracy": 0.97,
                          "val_loss": 0.08, "val_accuracy": 0.98, "lr": 1e-3})
        (run.path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
        run.write_status("completed", started=t, ended=t + 60, progress=1.0, test_accuracy=0.985,
                         model_name=f"bench-{i:03d}")


def measure(browser, clone: Path, runs: Path, pages, log) -> dict:
    port = free_port()
    proc = start_server(port, clone / "models", runs, log, clone / "app.py")
    url = f"http://127.0.0.1:{port}"
    # One browser profile, as one user's: its cache keeps Streamlit's and plotly's scripts between tabs.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        visit(context, url, "")  # Streamlit's own first request: not any page's cost
        out = {}
        for path in pages:
            out[path] = (visit(context, url, path), visit(context, url, path))
        return out
    finally:
        context.close()
        stop_server(proc)


def floor(browser, log) -> tuple[float, float]:
    """A one-line Streamlit app's first and second visit, same way: what any page pays for Streamlit itself."""
    from cold_start import REFERENCE_APP

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "reference_app.py"
        script.write_text(REFERENCE_APP)
        port = free_port()
        proc = start_server(port, Path(tmp), Path(tmp), log, script)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            url = f"http://127.0.0.1:{port}"
            return tuple(visit(context, url, "", reference=True)["s"] for _ in range(2))
        finally:
            context.close()
            stop_server(proc)


def script_worker(page: str) -> dict:
    """In a fresh process in the clone: the router, then one page's script, as AppTest runs them (no browser).
    Seconds of wall and CPU for the page's first run, and whether it imported TensorFlow."""
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, os.getcwd())
    w0, c0 = time.perf_counter(), time.process_time()
    at = AppTest.from_file(str(Path.cwd() / "app.py"), default_timeout=300).run()
    w1, c1 = time.perf_counter(), time.process_time()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    w2, c2 = time.perf_counter(), time.process_time()
    wall, cpu = (w1 - w0, c1 - c0) if not page else (w2 - w1, c2 - c1)
    return {"wall": wall, "cpu": cpu, "tensorflow": "tensorflow" in sys.modules, "errors": len(at.exception)}


def script_times(clone: Path, pages) -> list[str]:
    """Each page's script on its first run, each in a fresh process on the clone: the server's share of a
    first visit, in CPU seconds too (which other work on the machine inflates far less than wall seconds)."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    env.update({"MNIST_STUDIO_MODELS": str(clone / "models"), "MNIST_STUDIO_RUNS": str(clone / "runs-script"),
                "TF_CPP_MIN_LOG_LEVEL": "3"})
    env.setdefault("MNIST_STUDIO_REAL_DATA", str(REPO.parent / "shared" / "data" / "real"))
    lines = []
    for page in pages:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--script-worker", page or "home"],
                              cwd=clone, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode:
            lines.append(f"script   {page or 'home':<8} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        lines.append(f"script   {page or 'home':<8} first run {r['wall']:5.2f} s wall, {r['cpu']:5.2f} s CPU"
                     f"{', imports TensorFlow' if r['tensorflow'] else ''}{', ERRORS' if r['errors'] else ''}")
    return lines


def report(results: dict, label: str) -> list[str]:
    lines, missed = [], []
    for path, (first, second) in results.items():
        name = path or "home"
        top = f" ({TOP[path][0]} {first['top_s']:.2f} s / {second['top_s']:.2f} s)" if first.get("top_s") else ""
        if first.get("tab_s"):
            top += f" (then {TABS[path][0]}: {first['tab_s']:.2f} s / {second['tab_s']:.2f} s after the click)"
        errors = " ERRORS ON THE PAGE" if first["errors"] or second["errors"] else ""
        lines.append(f"{label}{name:<8} first {first['s']:5.2f} s   second {second['s']:5.2f} s{top}{errors}")
        if first["s"] > FIRST_TARGET_S or second["s"] > SECOND_TARGET_S:
            missed.append(name)
    return lines + ([f"{label}targets missed by: {', '.join(missed)}"] if missed else [f"{label}all targets met"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="a model store to copy into the clone instead of the tracked models/")
    parser.add_argument("--finished", type=int, default=100, help="also time Train with this many finished runs")
    parser.add_argument("--drop-kept", action="store_true",
                        help="drop every prediction file kept beside a card, the shipped ones too")
    parser.add_argument("--pages", default=",".join(p or "home" for p in PAGES))
    parser.add_argument("--scripts", action="store_true",
                        help="also time each page's script alone on its first run (AppTest, a fresh process each)")
    parser.add_argument("--script-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.script_worker:
        print(json.dumps(script_worker("" if args.script_worker == "home" else args.script_worker)))
        return 0
    if not Path(CHROMIUM).exists():
        print(f"pages: skipped, {CHROMIUM} is not installed")
        return 0
    pages = [("" if p == "home" else p) for p in args.pages.split(",")]
    from playwright.sync_api import sync_playwright

    print(f"load average before: {'/'.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def clone(name: str) -> Path:
            return fresh_clone(tmp / name, models=Path(args.models) if args.models else None,
                               drop_kept=args.drop_kept)

        kept = sorted(p.parent.name for p in clone("clone").glob("models/*/cache-*"))
        print(f"a fresh clone of the working tree; predictions kept beside: {', '.join(kept) or 'no model'}",
              flush=True)
        if args.scripts:
            print("\n".join(script_times(clone("clone-scripts"), pages)), flush=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with open(tmp / "server.log", "wb") as log:
            base = floor(browser, log)
            print(f"one-line Streamlit app (the floor): first {base[0]:.2f} s, second {base[1]:.2f} s", flush=True)
            lines = report(measure(browser, tmp / "clone", tmp / "runs-empty", pages, log), "")
            print("\n".join(lines), flush=True)
            if args.finished and "train" in pages:
                fake_finished_runs(tmp / "runs-many", args.finished)
                many = report(measure(browser, clone("clone-2"), tmp / "runs-many", ["train"], log),
                              f"[{args.finished} finished runs] ")
                print("\n".join(many))
        browser.close()
    print(f"targets: second visit < {SECOND_TARGET_S} s, first visit < {FIRST_TARGET_S} s; "
          f"load average after: {'/'.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
