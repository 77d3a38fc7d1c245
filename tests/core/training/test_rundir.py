import json
import subprocess
import sys
import time

from mnist_core.training import rundir
from mnist_core.training.config import TrainConfig


def test_events_and_status_round_trip(runs_root):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    assert run.path.parent == runs_root and run.status()["state"] == "queued"
    run.write_status("running", pid=None)
    run.append_event("batch", epoch=1, step=1, loss=2.0, accuracy=0.1)
    run.append_event("epoch", epoch=1, loss=1.0, accuracy=0.5)
    assert [e["type"] for e in run.events()] == ["batch", "epoch"]
    assert run.events("epoch")[0]["accuracy"] == 0.5
    assert run.config() == TrainConfig.for_model("softmax")
    assert [r.id for r in rundir.list_runs()] == [run.id]


def test_torn_last_line_is_skipped(runs_root):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    run.append_event("batch", step=1, loss=1.0)
    with open(run.path / "events.jsonl", "a") as fh:
        fh.write('{"type": "batch", "step": 2, "lo')  # writer killed mid-line
    assert [e["step"] for e in run.events()] == [1]
    run.append_event("batch", step=3, loss=1.0)  # a later writer starts on a fresh line
    assert [e["step"] for e in run.events()] == [1, 3]
    (run.path / "events.jsonl").write_text(json.dumps({"type": "x"}) + "\nnot json\n" + json.dumps({"type": "y"}) + "\n")
    assert [e["type"] for e in run.events()] == ["x", "y"]


def test_dead_process_reads_as_interrupted(runs_root):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    run.write_status("running", pid=proc.pid)
    status = run.status()
    assert status["state"] == "interrupted" and "ended without a final status" in status["error"]


def test_live_process_reads_as_running(runs_root):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run.write_status("running", pid=proc.pid)
        assert run.status()["state"] == "running"
    finally:
        proc.kill()
        proc.wait()
    assert run.status()["state"] == "interrupted"


def test_silent_heartbeat_reads_as_interrupted(runs_root, monkeypatch):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    run.write_status("running", pid=None)
    monkeypatch.setattr(time, "time", lambda: 10**10)
    assert run.status()["state"] == "interrupted"


def test_stop_request(runs_root):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    assert not run.stop_requested()
    run.request_stop()
    assert run.stop_requested()


def test_get_run_rejects_paths(runs_root):
    import pytest

    with pytest.raises(FileNotFoundError):
        rundir.get_run("../etc")
