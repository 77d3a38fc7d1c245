"""Run directory details the round-trip tests miss (found by `make mutation`): when a run counts as
interrupted, the summary's fields, ordering, log tails, stop-and-keep, unreadable files, failure reasons."""

import errno
import json
import os
import time

import pytest

from mnist_core import access
from mnist_core.training import rundir
from mnist_core.training.config import TrainConfig

NOW = 1_000_000.0


def _run(tmp_path, **status):
    run = rundir.RunDir.create(TrainConfig(model="softmax", epochs=7, name="nm"), root=tmp_path, run_id="r1")
    raw = {"state": "running", "pid": None, "heartbeat": NOW, **status}
    (run.path / "status.json").write_text(json.dumps(raw))
    return run


@pytest.mark.parametrize("status, age, state", [
    ({}, 59, "running"),                                # pid not yet written: allowed a minute
    ({}, 61, "interrupted"),
    ({"pid": os.getpid()}, 179, "running"),              # a live process beating within 180 s
    ({"pid": os.getpid()}, 181, "interrupted"),          # silent too long
    ({"pid": os.getpid(), "state": "queued", "admitted": NOW}, 100, "queued"),
    ({"state": "queued", "admitted": NOW - 30, "heartbeat": NOW - 30}, 29, "queued"),  # admitted 59 s ago
    ({"state": "queued", "admitted": NOW, "heartbeat": NOW - 100}, 61, "interrupted"),
    ({"state": "queued"}, 10_000, "queued"),             # waiting in line, never admitted: not stale
    ({"state": "completed"}, 10_000, "completed"),
])
def test_when_a_run_reads_as_interrupted(tmp_path, monkeypatch, status, age, state):
    run = _run(tmp_path, **status)
    monkeypatch.setattr(time, "time", lambda: NOW + age)
    got = run.status()
    assert got["state"] == state
    if state == "interrupted":
        assert got["error"] == "the training process ended without a final status"


def test_an_interrupted_run_keeps_its_own_error(tmp_path, monkeypatch):
    run = _run(tmp_path, error="out of memory")
    monkeypatch.setattr(time, "time", lambda: NOW + 10_000)
    assert run.status()["error"] == "out of memory"


def test_unreadable_and_missing_status(tmp_path):
    run = _run(tmp_path)
    (run.path / "status.json").write_text("{garbled")
    status = run.status()
    assert status["state"] == "broken" and status["error"].startswith("status.json cannot be read (JSONDecodeError: ")
    (run.path / "status.json").unlink()
    assert run.status() == {"state": "unknown"}


def test_write_status_merges_fields_and_stamps_the_heartbeat(tmp_path, monkeypatch):
    run = _run(tmp_path, epoch=1)
    monkeypatch.setattr(time, "time", lambda: NOW + 5)
    run.write_status("running", progress=0.5)
    raw = json.loads((run.path / "status.json").read_text())
    assert raw == {"state": "running", "pid": None, "heartbeat": NOW + 5, "epoch": 1, "progress": 0.5}
    run.heartbeat(epoch=2)
    assert json.loads((run.path / "status.json").read_text())["epoch"] == 2
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json", "status.json"]  # no temporary left


def test_create_writes_config_then_a_queued_status(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: NOW)
    run = rundir.RunDir.create(TrainConfig(model="mlp"), root=tmp_path, note="x")
    assert run.id.endswith("-mlp-" + run.id[-4:]) and len(run.id.split("-")[-1]) == 4
    assert json.loads((run.path / "status.json").read_text()) == {
        "state": "queued", "pid": None, "created": NOW, "note": "x", "heartbeat": NOW}
    with pytest.raises(FileExistsError):
        rundir.RunDir.create(TrainConfig(), root=tmp_path, run_id=run.id)


def test_summary_fields(tmp_path):
    run = _run(tmp_path, state="completed", model_name="saved-as", epoch=7, progress=1.0, test_accuracy=0.99,
               started=1.0, ended=2.0)
    assert run.summary() == {"id": "r1", "path": str(run.path), "model": "softmax", "name": "saved-as",
                             "state": "completed", "epoch": 7, "epochs": 7, "progress": 1.0,
                             "test_accuracy": 0.99, "error": None, "started": 1.0, "ended": 2.0}
    (run.path / "status.json").write_text(json.dumps({"state": "failed"}))
    summary = run.summary()
    assert summary["name"] == "nm" and summary["progress"] == 0.0
    (run.path / "config.json").write_text("{")
    assert run.summary()["model"] is None and run.summary()["epochs"] is None


def test_log_tail(tmp_path):
    run = _run(tmp_path)
    assert run.log_tail() == ""
    (run.path / "log.txt").write_text("\n".join(f"line {i}" for i in range(30)))
    assert run.log_tail().splitlines() == [f"line {i}" for i in range(10, 30)]
    assert run.log_tail(2) == "line 28\nline 29"


def test_events_filter_and_skip_non_objects(tmp_path):
    run = _run(tmp_path)
    assert run.events() == []
    (run.path / "events.jsonl").write_text('[1, 2]\n{"type": "a"}\n{"type": "b"}\n')
    assert run.events("b") == [{"type": "b"}] and len(run.events()) == 2


def test_stop_and_keep(tmp_path):
    run = _run(tmp_path)
    run.request_stop(keep=True)
    assert run.keep_requested() and not run.stop_requested()
    queued = rundir.RunDir.create(TrainConfig(), root=tmp_path)
    queued.request_stop(keep=True)  # nothing trained yet: a plain cancel
    assert queued.stop_requested() and not queued.keep_requested()
    with access.acting_as(access.VISITOR), pytest.raises(access.AccessDenied, match="cannot stop run r1"):
        run.request_stop()


def test_list_runs_newest_first_and_get_run(tmp_path):
    assert rundir.list_runs(tmp_path / "none") == []
    first = rundir.RunDir.create(TrainConfig(), root=tmp_path, run_id="b")
    second = rundir.RunDir.create(TrainConfig(), root=tmp_path, run_id="a")
    os.utime(first.path / "config.json", ns=(1, 1))
    (tmp_path / "stray").mkdir()  # not a run
    assert [r.id for r in rundir.list_runs(tmp_path)] == ["a", "b"]
    os.utime(second.path / "config.json", ns=(1, 1))  # same time: the name breaks the tie
    assert [r.id for r in rundir.list_runs(tmp_path)] == ["b", "a"]
    assert rundir.get_run("a", tmp_path).path == second.path
    for bad in ("stray", ".hidden", "a/b", "missing"):
        with pytest.raises(FileNotFoundError, match=f"no run '{bad}' in "):
            rundir.get_run(bad, tmp_path)


def test_pid_alive():
    assert not rundir.pid_alive(None) and not rundir.pid_alive(0)
    assert rundir.pid_alive(os.getpid())
    assert not rundir.pid_alive(2**22 + 12345)


def test_failure_reasons():
    full = OSError(errno.ENOSPC, "No space left on device", "/x/runs/r/model.keras")
    assert rundir.failure_reason(full) == (
        "the disk is full or a file-size limit was reached while writing model.keras (No space left on device); "
        "the model was not saved and the model store is unchanged: free some space and train again")
    assert "reached (" in rundir.failure_reason(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert rundir.failure_reason(OSError(errno.EACCES, "denied")) == "PermissionError: [Errno 13] denied"
    assert rundir.failure_reason(ValueError("bad")) == "ValueError: bad"


def test_events_are_stamped_and_numpy_numbers_written_as_floats(tmp_path, monkeypatch):
    import numpy as np

    run = _run(tmp_path)
    monkeypatch.setattr(time, "time", lambda: NOW)
    run.append_event("batch", loss=np.float32(0.5))
    assert (run.path / "events.jsonl").read_text() == '{"type": "batch", "t": 1000000.0, "loss": 0.5}\n'
    run.append_event("epoch", epoch=1)  # after a complete line: no blank line between
    assert (run.path / "events.jsonl").read_text().count("\n") == 2


def test_an_event_after_a_one_byte_torn_line_starts_a_new_line(tmp_path):
    run = _run(tmp_path)
    (run.path / "events.jsonl").write_bytes(b"{")
    run.append_event("epoch", epoch=1)
    assert (run.path / "events.jsonl").read_text().splitlines()[0] == "{"
    assert [e["epoch"] for e in run.events()] == [1]
    (run.path / "events.jsonl").write_bytes(b'{"type": "a"}\n{"ty')
    run.append_event("b")
    assert (run.path / "events.jsonl").read_text().splitlines()[:2] == ['{"type": "a"}', '{"ty']


def test_heartbeat_keeps_the_state(tmp_path):
    run = _run(tmp_path, state="queued", admitted=NOW)
    run.heartbeat(progress=0.1)
    assert json.loads((run.path / "status.json").read_text())["state"] == "queued"
    (run.path / "status.json").unlink()
    run.heartbeat()
    assert json.loads((run.path / "status.json").read_text())["state"] == "running"


def test_keep_on_an_admitted_queued_run_keeps(tmp_path):
    run = _run(tmp_path, state="queued", admitted=NOW)
    run.request_stop(keep=True)
    assert run.keep_requested() and not run.stop_requested()


def test_summary_reports_the_error_and_log_tail_survives_bad_bytes(tmp_path):
    run = _run(tmp_path, state="failed", error="boom")
    assert run.summary()["error"] == "boom"
    (run.path / "log.txt").write_bytes(b"ok\n\xff\xfe bad\n")
    assert run.log_tail() == "ok\n\ufffd\ufffd bad"


def test_list_runs_skips_every_stray_folder(tmp_path):
    for name in ("0", "1", "2", "y", "z"):
        (tmp_path / name).mkdir()
    rundir.RunDir.create(TrainConfig(), root=tmp_path, run_id="m")
    assert [r.id for r in rundir.list_runs(tmp_path)] == ["m"]


def test_get_run_refuses_nested_and_hidden_runs_even_when_they_exist(tmp_path):
    for nested in ("a/b", ".hidden"):
        (tmp_path / nested).mkdir(parents=True)
        (tmp_path / nested / "config.json").write_text("{}")
        with pytest.raises(FileNotFoundError):
            rundir.get_run(nested, tmp_path)


def test_spawn_starts_the_training_command_detached_with_its_log(tmp_path, monkeypatch):
    import subprocess
    import sys

    from mnist_core import paths

    run = _run(tmp_path)
    started = []

    class Proc:
        pid = 4242

        def __init__(self, args, **kwargs):
            kwargs["stdout"].write(b"started\n")  # the log is open for appending in bytes
            started.append((args, kwargs))

        def poll(self):
            return None

    monkeypatch.setattr(subprocess, "Popen", Proc)
    (run.path / "log.txt").write_bytes(b"earlier\n")
    state = run.raw_status()["state"]
    proc = rundir.spawn(run, ["train", "--run-dir", str(run.path), "--now"])
    args, kwargs = started[0]
    assert args == [sys.executable, "-m", "mnist_core", "train", "--run-dir", str(run.path), "--now"]
    assert run.raw_status()["pid"] == 4242 and run.raw_status()["state"] == state  # recorded, state kept
    assert kwargs["stderr"] == subprocess.STDOUT and kwargs["stdin"] == subprocess.DEVNULL
    assert kwargs["cwd"] == str(paths.REPO_ROOT) and kwargs["start_new_session"] is True
    assert kwargs["env"]["PYTHONUNBUFFERED"] == "1" and kwargs["env"]["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert kwargs["env"]["MNIST_STUDIO_RUNS"] == os.environ["MNIST_STUDIO_RUNS"]
    assert kwargs["stdout"].closed and (run.path / "log.txt").read_bytes() == b"earlier\nstarted\n"
    assert proc in rundir._children
    rundir._children.remove(proc)
