"""The run queue: at most N at once, in order, cancellable, shared by every process, surviving restarts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mnist_core.training import queue, rundir
from mnist_core.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[3]
TINY = dict(epochs=1, train_subset=300)


def waiter(root: Path, created: float, pid: int | None = None) -> rundir.RunDir:
    """A run in line owned by a waiting process (this one): dispatch admits it without spawning anything."""
    return rundir.RunDir.create(TrainConfig.for_model("numpy_softmax", **TINY), root, pid=pid or os.getpid(),
                                created=created)


def wait_for(condition, what: str, timeout: float = 30) -> None:
    """Poll `condition` until it holds (a condition, never a fixed sleep, synchronises the tests)."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def states(runs):
    return [r.status()["state"] + ("+" if r.raw_status().get("admitted") else "") for r in runs]


def test_default_fits_the_machine(monkeypatch):
    monkeypatch.delenv(queue.ENV, raising=False)
    n = queue.max_runs()
    assert 1 <= n <= len(os.sched_getaffinity(0))
    monkeypatch.setenv(queue.ENV, "3")
    assert queue.max_runs() == 3
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv(queue.ENV, bad)
        with pytest.raises(queue.QueueError, match="whole number"):
            queue.max_runs()


def test_admits_the_oldest_n_and_the_next_when_one_ends(runs_root, monkeypatch):
    monkeypatch.setenv(queue.ENV, "2")
    runs = [waiter(runs_root, created=100 + i) for i in (3, 0, 4, 1, 2)]  # created out of order
    by_age = sorted(runs, key=lambda r: r.raw_status()["created"])
    assert queue.dispatch(runs_root) == [by_age[0].id, by_age[1].id]
    assert queue.positions(runs_root) == {by_age[2].id: 1, by_age[3].id: 2, by_age[4].id: 3}
    assert queue.dispatch(runs_root) == []  # still full
    by_age[0].write_status("completed")
    assert queue.dispatch(runs_root) == [by_age[2].id]
    assert queue.free_slots(runs_root) == 0 and queue.active_count(runs_root) == 2


def test_cancel_while_queued(runs_root, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    first, second, third = (waiter(runs_root, created=i) for i in range(3))
    queue.dispatch(runs_root)
    second.request_stop()
    queue.dispatch(runs_root)
    assert states([first, second, third]) == ["queued+", "cancelled", "queued"]
    assert second.status()["error"] == "cancelled while queued"
    assert queue.positions(runs_root) == {third.id: 1}


def test_a_waiting_run_never_reads_as_interrupted(runs_root, monkeypatch):
    run = rundir.RunDir.create(TrainConfig.for_model("numpy_softmax"), runs_root)  # the dashboard's kind
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10 * 3600)
    assert run.status()["state"] == "queued"


def test_a_dead_waiter_leaves_the_line(runs_root, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = waiter(runs_root, created=1, pid=proc.pid)
    alive = waiter(runs_root, created=2)
    assert queue.dispatch(runs_root) == [alive.id]
    assert dead.status()["state"] == "interrupted"


def test_dispatchers_in_many_processes_admit_no_more_than_n(runs_root):
    runs = [waiter(runs_root, created=i) for i in range(20)]
    code = ("import sys; from mnist_core.training import queue; "
            "print(len(queue.dispatch(sys.argv[1])))")
    env = {**os.environ, queue.ENV: "3"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(runs_root)], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, text=True) for _ in range(8)]
    admitted = sum(int(p.communicate(timeout=60)[0]) for p in procs)
    assert admitted == 3
    assert states(runs)[:3] == ["queued+"] * 3 and set(states(runs)[3:]) == {"queued"}


def test_a_sweep_slot_waits_for_a_free_place(runs_root, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    busy = waiter(runs_root, created=1)
    queue.dispatch(runs_root)
    got = threading.Event()

    def trial():
        with queue.slot("trial", runs_root, poll_s=0.05):
            got.set()
            assert queue.active_count(runs_root) == 1

    thread = threading.Thread(target=trial)
    thread.start()
    wait_for(lambda: len(queue.waiting(runs_root)) == 1, "the slot to join the line")
    assert queue.dispatch(runs_root) == []  # a dispatch while the place is held admits nobody
    assert not got.is_set() and len(queue.waiting(runs_root)) == 1
    busy.write_status("completed")
    thread.join(10)
    assert got.is_set() and queue.active_count(runs_root) == 0 and queue.free_slots(runs_root) == 1


def test_a_sweep_holds_no_place_but_each_trial_does(runs_root, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    rundir.RunDir.create(TrainConfig.for_model("numpy_softmax"), runs_root, pid=os.getpid(), admitted=1.0,
                         kind="sweep")
    assert queue.active_count(runs_root) == 0 and queue.free_slots(runs_root) == 1
    with queue.slot("trial 1", runs_root, poll_s=0.05):
        assert queue.active_count(runs_root) == 1 and queue.free_slots(runs_root) == 0
    assert queue.free_slots(runs_root) == 1


def running_now(root: Path) -> int:
    return sum(r.status().get("state") == "running" for r in rundir.list_runs(root))


def max_overlap(intervals) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    best = now = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


@pytest.mark.slow
def test_thirty_starts_never_run_more_than_n(runs_root, store_root, monkeypatch):
    """15 dashboard launches and 15 CLI `train` processes at once, N=2: all finish or are cancelled."""
    monkeypatch.setenv(queue.ENV, "2")
    config = TrainConfig.for_model("numpy_softmax", **TINY)
    dashboard = [queue.launch(config) for _ in range(15)]
    cli = [subprocess.Popen([sys.executable, "-m", "mnist_core", "train", "--model", "numpy_softmax", "--epochs", "1",
                             "--train-subset", "300", "--quiet"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL) for _ in range(15)]
    wait_for(lambda: len(rundir.list_runs(runs_root)) >= 30, "30 run directories", timeout=60)
    queued = [r for r in dashboard if r.id in queue.positions(runs_root)]
    assert len(queued) >= 10
    queued[-1].request_stop()  # Cancel on a queued run (the page calls the same two functions)
    queue.dispatch(runs_root)
    assert queued[-1].status()["state"] == "cancelled"

    most, deadline = 0, time.time() + 400
    while time.time() < deadline:
        most = max(most, running_now(runs_root))
        if not any(r.status().get("state") in rundir.ACTIVE for r in rundir.list_runs(runs_root)):
            break
        queue.dispatch(runs_root)  # what the server's dispatcher thread does (pages only read)
        time.sleep(0.2)
    assert all(p.wait(timeout=60) == 0 for p in cli)
    final = [r.status() for r in rundir.list_runs(runs_root)]
    assert sorted(s["state"] for s in final) == ["cancelled"] + ["completed"] * 29
    assert 1 <= most <= 2
    assert max_overlap([(s["started"], s["ended"]) for s in final if s.get("started")]) <= 2


def test_runs_command_shows_places_in_line(runs_root, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    first, second, third = (waiter(runs_root, created=i) for i in range(3))
    queue.dispatch(runs_root)
    out = subprocess.run([sys.executable, "-m", "mnist_core", "runs"], cwd=REPO, capture_output=True, text=True)
    lines = {line.split()[0]: line for line in out.stdout.splitlines()}
    assert "starting" in lines[first.id]
    assert "number 1 in line" in lines[second.id] and "number 2 in line" in lines[third.id]
