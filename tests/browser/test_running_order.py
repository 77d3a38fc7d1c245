"""The Running list keeps two live runs in start order across the page's polls (no swapping, no duplicate keys)."""

import subprocess
import threading
import time

from mnist_core.training import rundir
from mnist_core.training.config import TrainConfig

from .conftest import problems, stop_runs


def _fake_live_run(root, name: str, pid: int) -> rundir.RunDir:
    run = rundir.RunDir.create(TrainConfig.for_model("lenet5", epochs=3, name=name), root, admitted=time.time())
    run.append_event("plan", epochs=3, steps_per_epoch=100, train_size=6000, params=1)
    run.write_status("running", pid=pid, started=time.time(), epoch=1, step=1, steps=100, progress=0.0)
    return run


def test_two_running_runs_keep_their_places(page, browser_store):
    _, runs_root = browser_store
    sleeper = subprocess.Popen(["sleep", "300"])  # a live pid: the runs read as running, not interrupted
    stop = threading.Event()
    try:
        first = _fake_live_run(runs_root, "order-first", sleeper.pid)
        time.sleep(0.05)
        second = _fake_live_run(runs_root, "order-second", sleeper.pid)

        def beat():  # both runs write their status, in turns, faster than the page polls
            step = 1
            while not stop.is_set():
                for run in (second, first) if step % 2 else (first, second):
                    run.append_event("batch", epoch=1, step=step, global_step=step, loss=1.0 / step,
                                     accuracy=0.5, elapsed=step * 0.1)
                    run.heartbeat(step=step, progress=step / 300)
                step += 1
                time.sleep(0.3)

        threading.Thread(target=beat, daemon=True).start()
        page.goto(f"{page.base_url}/train")
        panels = page.locator("[class*=st-key-run-]")
        panels.nth(1).wait_for(timeout=60_000)
        orders = []
        for _ in range(12):  # about eight polls of the live fragment
            names = panels.all_inner_texts()
            orders.append([("first" if "order-first" in t else "second" if "order-second" in t else "?")
                           for t in names])
            time.sleep(1.0)
        seen = {tuple(o) for o in orders if len(o) == 2}
        assert seen == {("first", "second")}, orders
        assert problems(page) == []
    finally:
        stop.set()
        sleeper.kill()
        sleeper.wait()
        for run in (r for r in rundir.list_runs(runs_root) if r.config().name in ("order-first", "order-second")):
            run.write_status("cancelled", ended=time.time(), error="test over")
        stop_runs(runs_root, grace_s=1)
