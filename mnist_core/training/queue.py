"""The run queue: at most max_runs() trainings at once, the rest wait in order of creation.

The queue is nothing but the run directories: a run waits while its
status.json says `queued` without `admitted`, and the dispatcher admits the
oldest waiting runs while fewer than max_runs() are admitted or running. The
dispatcher runs under an fcntl lock on runs/.queue.lock, so any number of
processes (dashboards, CLI launches, trainings that just ended) may call it
at once and still never admit more than N. Nothing lives in a server's
memory: after a restart the next dispatch() starts what was waiting.

Dispatch is an action, never a side effect of reading: it runs when a run is
launched or cancelled, when a run's process ends (the CLI's `train` and
`finetune` dispatch on their way out), while a process waits its turn, and
in the server's one background dispatcher thread (studio_ui/serve.py), which
also frees the places of runs that died without a word. Reading the queue
(waiting, positions, the dashboard's polls) only reads.

A waiting run is owned either by nobody (the dashboard queued it; the
dispatcher spawns its training process when admitted) or by a waiting
process whose pid it records (a CLI `train`, which then trains in-process).
Sweeps take a `slot()`: a waiting entry under runs/.slots/ that counts like
a run once admitted.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path

from mnist_core import access, paths
from mnist_core.training import rundir
from mnist_core.training.config import ConfigError, TrainConfig

ENV = "MNIST_STUDIO_MAX_RUNS"
LOCK_FILE, SLOTS = ".queue.lock", ".slots"
# A Keras training's peak memory, with margin: TensorFlow, MNIST as float32, batches. Measured:
# 1.2 GiB peak RSS for lenet5 on all 55,000 images (/usr/bin/time -v; README, "Many users, faults and limits").
RUN_MEMORY_GIB = 2.0
POLL_S = 1.0


class QueueError(ConfigError):
    """The queue's setting is unusable; the message says what is accepted."""


def default_max_runs() -> int:
    """One training per core, as far as memory allows RUN_MEMORY_GIB each.

    TensorFlow already spreads one training over every core, so more runs than
    cores only time-slice them (each slower, none sooner done), and each run
    holds up to RUN_MEMORY_GIB.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        memory_gib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError):
        memory_gib = RUN_MEMORY_GIB * cores
    return max(1, min(cores, int(memory_gib // RUN_MEMORY_GIB)))


def max_runs() -> int:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return default_max_runs()
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise QueueError(f"{ENV}={raw!r}: give a whole number of trainings at once, 1 or more "
                         f"(unset, it is {default_max_runs()} on this machine)")
    return value


def _root(root: Path | None) -> Path:
    return Path(root or paths.runs_dir())


@contextmanager
def locked(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --- entries: runs and slots, waiting or active -----------------------------

def _run_entry(run: rundir.RunDir) -> dict | None:
    raw = run.raw_status()
    if raw.get("kind") == "sweep":
        return None  # a sweep's own process trains nothing: each of its local trials holds a slot()
    state = run.status().get("state")  # dead or silent ones read as interrupted: neither waiting nor active
    if state not in rundir.ACTIVE:
        return None
    waiting = state == "queued" and not raw.get("admitted")
    return {"kind": "run", "id": run.id, "run": run, "created": float(raw.get("created") or 0),
            "waiting": waiting, "owner": raw.get("pid")}


def _slot_entries(root: Path) -> list[dict]:
    out = []
    for path in sorted((root / SLOTS).glob("*.json")):
        try:
            slot = json.loads(path.read_text())
        except (OSError, ValueError):
            slot = {}
        if not rundir.pid_alive(slot.get("pid")):
            path.unlink(missing_ok=True)  # its holder died: the slot is free again
            continue
        out.append({"kind": "slot", "id": path.stem, "path": path, "created": float(slot.get("created", 0)),
                    "waiting": not slot.get("admitted"), "owner": slot.get("pid")})
    return out


def _entries(root: Path) -> list[dict]:
    runs = [e for e in map(_run_entry, rundir.list_runs(root)) if e]
    return sorted(runs + _slot_entries(root), key=lambda e: (e["created"], e["id"]))


def waiting(root: Path | None = None) -> list[str]:
    """Ids of the waiting runs and slots, first in line first (reads only, no lock)."""
    return [e["id"] for e in _entries(_root(root)) if e["waiting"]]


def positions(root: Path | None = None) -> dict[str, int]:
    """{run id: place in line, 1 = next to start} for every waiting run."""
    return {run_id: i for i, run_id in enumerate(waiting(root), start=1)}


def active_count(root: Path | None = None) -> int:
    """Runs and slots admitted and not yet ended."""
    return sum(not e["waiting"] for e in _entries(_root(root)))


def free_slots(root: Path | None = None) -> int:
    """How many more trainings may start now (waiting ones go first, so this is 0 while any wait)."""
    entries = _entries(_root(root))
    if any(e["waiting"] for e in entries):
        return 0
    return max(0, max_runs() - len(entries))


# --- the dispatcher -----------------------------------------------------------

def dispatch(root: Path | None = None, limit: int | None = None) -> list[str]:
    """Admit the oldest waiting entries while fewer than `limit` (max_runs()) are active; returns their ids.

    A waiting run whose stop was requested is marked cancelled instead.
    """
    root = _root(root)
    limit = limit or max_runs()
    with locked(root):
        return _dispatch(root, limit)


def _dispatch(root: Path, limit: int) -> list[str]:
    entries = _entries(root)
    free = limit - sum(not e["waiting"] for e in entries)
    admitted = []
    for entry in (e for e in entries if e["waiting"]):
        if entry["kind"] == "run" and entry["run"].stop_requested():
            entry["run"].finish("cancelled", "cancelled while queued")
            continue
        if free <= 0:
            continue  # keep going: later waiting runs may have been cancelled
        _admit(entry)
        admitted.append(entry["id"])
        free -= 1
    return admitted


def _admit(entry: dict) -> None:
    now = time.time()
    if entry["kind"] == "slot":
        slot = json.loads(entry["path"].read_text())
        _write_json(entry["path"], {**slot, "admitted": now})
        return
    run = entry["run"]
    run.write_status("queued", admitted=now)
    if entry["owner"] is None:  # nobody waits for it: start its training process (it waits for our lock)
        try:
            rundir.spawn(run, train_argv(run))
        except OSError as exc:
            run.finish("failed", f"cannot start the training process: {exc}")


def train_argv(run: rundir.RunDir) -> list[str]:
    """The command line of an admitted training run's process (`python -m mnist_core` ...)."""
    return ["train", "--run-dir", str(run.path), "--now"]


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def sync(root: Path | None = None) -> None:
    """Wait until no dispatcher holds the lock (a spawned training calls this before its first write)."""
    with locked(_root(root)):
        pass


# --- waiting in line: CLI runs and sweep slots ---------------------------------

def wait_turn(run: rundir.RunDir, on_wait=None, poll_s: float = POLL_S) -> bool:
    """Block until `run` (queued, owned by this process) is admitted: True; False if cancelled meanwhile.

    on_wait(position) is called whenever the place in line changes.
    """
    root, limit, last = run.path.parent, max_runs(), None
    while True:
        with locked(root):
            _dispatch(root, limit)
            raw = run.raw_status()
            if raw.get("state") != "queued":
                return False
            if raw.get("admitted"):
                return True
            run.write_status("queued")  # a heartbeat, under the lock so it cannot undo an admission
        place = positions(root).get(run.id)
        if on_wait and place != last:
            on_wait(place)
            last = place
        time.sleep(poll_s)


@contextmanager
def slot(label: str = "sweep trial", root: Path | None = None, poll_s: float = POLL_S):
    """Hold one of the max_runs() places for a training that has no run directory (a sweep trial).

    Waits in line behind earlier runs and slots; released when the block ends
    or when this process dies.
    """
    root = _root(root)
    (root / SLOTS).mkdir(parents=True, exist_ok=True)
    path = root / SLOTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.json"
    limit = max_runs()
    with locked(root):
        _write_json(path, {"pid": os.getpid(), "created": time.time(), "label": label})
    try:
        while True:
            with locked(root):
                _dispatch(root, limit)
                if json.loads(path.read_text()).get("admitted"):
                    break
            time.sleep(poll_s)
        yield
    finally:
        path.unlink(missing_ok=True)
        dispatch(root)


def launch(config: TrainConfig, root: Path | None = None, now: bool = False, replace: bool = False) -> rundir.RunDir:
    """Queue a training run, dispatch (it starts if a place is free) and return at once.

    now=True starts its process at once, outside the queue's limit. A config.name already saved is
    refused (store.check_new_name) unless replace=True, which the run records for its process.
    """
    access.require_editor("start a training run")
    config.validate()
    limit = max_runs()  # an unusable setting fails here, before anything is written
    if config.name and config.keep_model:  # a run that keeps no model takes no name in the store
        from mnist_core.models import store

        store.check_new_name(config.name, replace=replace)
    intent = {"replace": True} if replace else {}
    if now:
        run = rundir.RunDir.create(config, root, admitted=time.time(), **intent)
        with locked(run.path.parent):  # the child records itself only after we have
            rundir.spawn(run, train_argv(run))
        return run
    run = rundir.RunDir.create(config, root, **intent)
    dispatch(run.path.parent, limit)
    return run
