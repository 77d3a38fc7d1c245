"""Run directory details found by `make mutation` after test_rundir_edges.py: zombies and unreadable /proc
entries, exact liveness boundaries, a run without a heartbeat, the run id's format, status.json's text,
the default stop, the spawned command's environment, and a stray folder listed before a run."""

import json
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from mnist_core.training import rundir
from mnist_core.training.config import TrainConfig

NOW = 1_000_000.0


def _run(tmp_path, **status):
    run = rundir.RunDir.create(TrainConfig(model="softmax"), root=tmp_path, run_id="r1")
    (run.path / "status.json").write_text(json.dumps(status))
    return run


def _proc_state(pid):
    return pathlib.Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]


def test_a_zombie_is_not_alive():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        while _proc_state(proc.pid) != "Z":  # exited, not yet reaped: its pid still answers os.kill
            time.sleep(0.01)
        assert not rundir.pid_alive(proc.pid)
    finally:
        proc.wait()


def test_a_live_process_whose_name_holds_a_bracket_and_z_is_alive():
    # /proc/<pid>/stat is "pid (name) state ...": the state follows the last ')', whatever the name holds
    code = "import time; open('/proc/self/comm', 'w').write('x) Z'); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        while pathlib.Path(f"/proc/{proc.pid}/comm").read_text().strip() != "x) Z":
            time.sleep(0.01)
        assert rundir.pid_alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_a_process_of_another_user_or_an_unreadable_proc_entry_counts_as_alive(monkeypatch):
    def denied(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    with monkeypatch.context() as m:
        m.setattr(os, "kill", denied)
        assert rundir.pid_alive(12345)
    real_read = pathlib.Path.read_text

    def no_proc(self, *args, **kwargs):
        if str(self).startswith("/proc/"):
            raise OSError("no /proc")
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", no_proc)
    assert rundir.pid_alive(os.getpid())


@pytest.mark.parametrize("status, age, state", [
    ({"state": "running", "pid": os.getpid(), "heartbeat": NOW}, 180, "running"),     # exactly 180 s: not yet
    ({"state": "running", "pid": None, "heartbeat": NOW}, 60, "running"),             # exactly a minute: not yet
    ({"state": "queued", "admitted": NOW, "heartbeat": NOW - 100, "pid": None}, 30, "queued"),  # admitted counts
    ({"state": "running", "admitted": NOW, "heartbeat": NOW - 100, "pid": None}, 30, "running"),
    ({"state": "running", "pid": None}, 0, "interrupted"),                            # never beat at all
    ({"state": "running", "pid": os.getpid()}, 0, "interrupted"),
])
def test_liveness_boundaries(tmp_path, monkeypatch, status, age, state):
    run = _run(tmp_path, **status)
    monkeypatch.setattr(time, "time", lambda: NOW + age)
    assert run.status()["state"] == state


def test_a_queued_run_with_a_dead_pid_is_interrupted(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    run = _run(tmp_path, state="queued", pid=proc.pid, heartbeat=time.time())
    assert run.status()["state"] == "interrupted"


def test_run_id_is_date_time_model_and_four_hex_digits(tmp_path):
    run = rundir.RunDir.create(TrainConfig(model="mlp"), root=tmp_path)
    assert re.fullmatch(r"20\d{6}-\d{6}-mlp-[0-9a-f]{4}", run.id), run.id


def test_status_json_text_and_numpy_fields(tmp_path, monkeypatch):
    run = rundir.RunDir.create(TrainConfig(), root=tmp_path, run_id="r")
    (run.path / "status.json").unlink()
    monkeypatch.setattr(time, "time", lambda: NOW)
    run.write_status("running", loss=np.float32(0.5))
    assert (run.path / "status.json").read_text() == (
        '{\n "loss": 0.5,\n "state": "running",\n "heartbeat": 1000000.0\n}')


def test_a_plain_stop_on_a_running_run_cancels(tmp_path):
    run = _run(tmp_path, state="running", pid=os.getpid(), heartbeat=time.time())
    run.request_stop()
    assert run.stop_requested() and not run.keep_requested()


def test_spawn_sets_its_own_environment(tmp_path, monkeypatch):
    run = _run(tmp_path, state="queued")
    seen = {}

    class Proc:
        pid = 4242

        def __init__(self, args, **kwargs):
            seen.update(kwargs["env"])

        def poll(self):
            return 0

    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(subprocess, "Popen", Proc)
    proc = rundir.spawn(run, ["train", "--run-dir", str(run.path), "--now"])
    assert seen["PYTHONUNBUFFERED"] == "1" and seen["TF_CPP_MIN_LOG_LEVEL"] == "2"
    rundir.reap()
    assert proc not in rundir._children  # a finished child is dropped from the list


def test_a_stray_folder_listed_first_does_not_hide_the_runs(tmp_path, monkeypatch):
    rundir.RunDir.create(TrainConfig(), root=tmp_path, run_id="m")
    (tmp_path / "a-stray").mkdir()
    real = pathlib.Path.iterdir
    monkeypatch.setattr(pathlib.Path, "iterdir", lambda self: iter(sorted(real(self))))
    assert [r.id for r in rundir.list_runs(tmp_path)] == ["m"]
