"""Run directories: append-only events, atomic status, heartbeat, stop request.

A run lives in runs/<id>/ with config.json, events.jsonl (one JSON object per
line), status.json and, when someone asks it to stop, a file named `stop`.
Readers tolerate a torn last line, and a run whose process died without a
final status reads as interrupted, never as running forever.

Every kind of run (training, fine-tuning, sweep) moves through one
`with run.lifecycle(): ...`, and every child process starts through one
spawn(run, argv).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core import access, paths
from mnist_core.errors import UserError
from mnist_core.training.config import TrainConfig

ACTIVE = ("queued", "running")
FINAL = ("completed", "failed", "cancelled", "interrupted")
STALE_HEARTBEAT_S = 180.0  # a live run beats at least every few seconds
KEEP_FILE = "stop-keep"  # stop at the next batch and save (the file `stop` cancels at the next batch)


class Cancelled(Exception):
    """Raised inside a run's lifecycle when the user cancelled it: it ends `cancelled`, nothing saved."""


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent has not reaped it yet
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class RunDir:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    # -- writing (the training process) ------------------------------------
    @classmethod
    def create(cls, config: TrainConfig, root: Path | None = None, run_id: str | None = None,
               **status) -> "RunDir":
        root = Path(root or paths.runs_dir())
        run_id = run_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{config.model}-{secrets.token_hex(2)}"
        run = cls(root / run_id)
        run.path.mkdir(parents=True, exist_ok=False)
        config.save(run.path / "config.json")
        run.write_status("queued", **{"pid": None, "created": time.time(), **status})
        return run

    def config(self) -> TrainConfig:
        return TrainConfig.load(self.path / "config.json")

    def append_event(self, kind: str, **fields) -> None:
        line = json.dumps({"type": kind, "t": time.time(), **fields}, default=float) + "\n"
        with open(self.path / "events.jsonl", "a+b") as fh:
            if fh.tell() > 0:  # a writer killed mid-line must not swallow this event
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = "\n" + line
            fh.write(line.encode())

    def write_status(self, state: str, **fields) -> None:
        current = self.raw_status() if (self.path / "status.json").exists() else {}
        current.update(fields, state=state, heartbeat=time.time())
        _atomic_write(self.path / "status.json", json.dumps(current, default=float, indent=1))

    def heartbeat(self, **fields) -> None:
        self.write_status(self.raw_status().get("state", "running"), **fields)

    def finish(self, state: str, error: str | None = None, event: dict | None = None, **status) -> None:
        """The one way a run ends: an `end` event, then the final status (with `error`, the reason, always
        written: None on success). Best effort: a full disk must not hide the exception that ended the run."""
        now = time.time()
        for write in (lambda: self.append_event("end", state=state, **({"error": error} if error else {}),
                                                **(event or {})),
                      lambda: self.write_status(state, ended=now, error=error, **status)):
            try:
                write()
            except OSError:
                pass

    def lifecycle(self, name: str | None = None, start: dict | None = None, **status) -> "Lifecycle":
        """`with run.lifecycle(...) as life:` running -> completed | cancelled | failed | interrupted.

        Entering writes `running` (this pid, the start time, `status`) and a `start` event (name, `start`).
        The block ends the run: normally `completed` with what it passed to life.end(...) (or another final
        state it names there); Cancelled as `cancelled`; Ctrl+C as `cancelled` from the keyboard; SystemExit as
        `interrupted`; any other exception as `failed` with failure_reason(exc). The exception propagates.
        """
        return Lifecycle(self, name, start or {}, status)

    # -- control -------------------------------------------------------------
    def request_stop(self, keep: bool = False) -> None:
        """Cancel at the next batch (nothing saved), or with keep=True stop at the next batch and save.

        A run still waiting in line has trained nothing to keep: keep=True cancels it like a plain stop.
        """
        access.require_editor(f"stop run {self.id}")
        raw = self.raw_status()
        if keep and not (raw.get("state") == "queued" and not raw.get("admitted")):
            (self.path / KEEP_FILE).touch()
        else:
            (self.path / "stop").touch()

    def stop_requested(self) -> bool:
        return (self.path / "stop").exists()

    def keep_requested(self) -> bool:
        """Asked to stop at the next batch and save the model as it stands."""
        return (self.path / KEEP_FILE).exists()

    # -- reading (dashboard, CLI) -------------------------------------------
    def raw_status(self) -> dict:
        """status.json as written ({} when missing or unreadable): no liveness judgement (see status())."""
        try:
            return json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError):
            return {}

    def status(self) -> dict:
        """status.json, with a dead or silent 'running' run shown as interrupted, an unreadable one as broken."""
        status = self.raw_status() or self._unreadable() or {"state": "unknown"}
        if status.get("state") == "queued" and status.get("pid") is None and not status.get("admitted"):
            return status  # waiting in line (training/queue.py): nothing runs for it yet
        if status.get("state") in ACTIVE:
            silent = time.time() - float(status.get("heartbeat", 0)) > STALE_HEARTBEAT_S
            since = float(status.get("admitted") or status.get("heartbeat", 0))
            never_started = status.get("pid") is None and time.time() - since > 60
            dead = status.get("pid") is not None and not pid_alive(status.get("pid"))
            if dead or silent or never_started:
                status = {**status, "state": "interrupted",
                          "error": status.get("error") or "the training process ended without a final status"}
        return status

    def _unreadable(self) -> dict | None:
        """{'state': 'broken', 'error': why} when status.json exists but cannot be read (None when missing)."""
        try:
            json.loads((self.path / "status.json").read_text())
        except FileNotFoundError:
            return None  # being created: config.json is written first
        except (OSError, ValueError) as exc:
            return {"state": "broken", "error": f"status.json cannot be read ({type(exc).__name__}: {exc})"}
        return None

    def events(self, kind: str | None = None) -> list[dict]:
        """All complete events; a torn or garbled line is skipped, not fatal."""
        try:
            text = (self.path / "events.jsonl").read_text()
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and (kind is None or event.get("type") == kind):
                out.append(event)
        return out

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.path / "log.txt").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def summary(self) -> dict:
        status = self.status()
        try:
            config = self.config().to_dict()
        except (OSError, ValueError):
            config = {}
        return {"id": self.id, "path": str(self.path), "model": config.get("model"),
                "name": status.get("model_name") or config.get("name"), "state": status.get("state"),
                "epoch": status.get("epoch"), "epochs": config.get("epochs"), "progress": status.get("progress", 0.0),
                "test_accuracy": status.get("test_accuracy"), "error": status.get("error"),
                "started": status.get("started"), "ended": status.get("ended")}


def list_runs(root: Path | None = None) -> list[RunDir]:
    """Every run directory under root, newest first by creation.

    The order is that of config.json, written once when the run is created:
    a folder's own mtime moves with every status write, which made two live
    runs swap places on each poll.
    """
    root = Path(root or paths.runs_dir())
    if not root.is_dir():
        return []
    created = []
    for p in root.iterdir():
        try:
            created.append(((p / "config.json").stat().st_mtime_ns, p.name, RunDir(p)))
        except OSError:  # not a run (or removed meanwhile)
            continue
    return [run for *_, run in sorted(created, key=lambda c: (c[0], c[1]), reverse=True)]


def get_run(run_id: str, root: Path | None = None) -> RunDir:
    root = Path(root or paths.runs_dir())
    if "/" in run_id or run_id.startswith(".") or not (root / run_id / "config.json").is_file():
        raise FileNotFoundError(f"no run '{run_id}' in {root}")
    return RunDir(root / run_id)


FULL_DISK_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def failure_reason(exc: BaseException) -> str:
    """Why a run failed, in words: a full disk says so and what it means for the store."""
    if isinstance(exc, OSError) and exc.errno in FULL_DISK_ERRNOS:
        where = f" while writing {Path(exc.filename).name}" if exc.filename else ""
        return (f"the disk is full or a file-size limit was reached{where} ({exc.strerror}); "
                "the model was not saved and the model store is unchanged: free some space and train again")
    if isinstance(exc, UserError):  # the user's mistake: its message says it all
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_children: list[subprocess.Popen] = []  # every child this process started, for every kind of run


def spawn(run: RunDir, argv: list[str]) -> subprocess.Popen:
    """Start `python -m mnist_core ARGV...` for `run` in its own session, its output in the run's log.txt,
    and record its pid in the run's status.

    Call it under queue.locked(): a child waits for that lock (queue.sync) before its first write, so the
    pid written here never lands on top of the child's own `running`.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(run.path / "log.txt", "ab")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mnist_core", *argv], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(paths.REPO_ROOT), env=env, start_new_session=True)
    finally:
        log.close()
    reap()
    _children.append(proc)
    run.write_status(run.raw_status().get("state", "queued"), pid=proc.pid)
    return proc


def reap() -> None:
    """Collect the exit status of children that ended (else each lingers as a zombie until this process exits)."""
    _children[:] = [p for p in _children if p.poll() is None]


class Lifecycle:
    """What RunDir.lifecycle returns: a context manager whose block is the run (see there)."""

    def __init__(self, run: RunDir, name: str | None, start: dict, status: dict):
        self.run, self.name, self.start, self.status = run, name, start, status
        self.ending: tuple[str, dict, dict] = ("completed", {}, {})

    def end(self, state: str = "completed", event: dict | None = None, **status) -> None:
        """How the block ends when it returns: the final state, the end event's fields, the status's."""
        self.ending = (state, event or {}, status)

    def __enter__(self) -> "Lifecycle":
        named = {"model_name": self.name} if self.name else {}
        self.run.write_status("running", pid=os.getpid(), started=time.time(), **named, **self.status)
        self.run.append_event("start", **({"name": self.name} if self.name else {}), **self.start)
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None:
            state, event, status = self.ending
            self.run.finish(state, status.pop("error", None), event, **status)
        elif isinstance(exc, Cancelled):
            self.run.finish("cancelled", "cancelled at the user's request")
        elif isinstance(exc, KeyboardInterrupt):  # Ctrl+C in the terminal: a cancel, not a failure
            self.run.finish("cancelled", "interrupted from the keyboard")
        elif isinstance(exc, SystemExit):
            self.run.finish("interrupted", f"the process was asked to exit (status {exc.code})")
        else:
            self.run.finish("failed", failure_reason(exc))
        return False


def lifecycle(run: RunDir | None, name: str | None = None, start: dict | None = None, **status):
    """run.lifecycle(...), or for no run a block that records nothing (training in a test or a sweep trial)."""
    return run.lifecycle(name, start, **status) if run else _NoRun()


class _NoRun:
    def end(self, *args, **kwargs) -> None:
        pass

    def __enter__(self) -> "_NoRun":
        return self

    def __exit__(self, *exc) -> bool:
        return False
