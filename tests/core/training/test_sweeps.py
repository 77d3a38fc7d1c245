"""Sweeps without Ray: the search-space syntax, SweepConfig, the sweep's run directory and its view."""

from __future__ import annotations

import json
import os

import pytest

from mnist_core.training import queue, rundir, sweep_results, sweeps
from mnist_core.training.config import ConfigError, TrainConfig


@pytest.mark.parametrize("text, knob, spec", [
    ("lr=0.01", "lr", {"kind": "fixed", "value": 0.01}),
    ("batch_size=128,256,512", "batch_size", {"kind": "list", "values": [128, 256, 512]}),
    ("seed=0-7", "seed", {"kind": "int", "low": 0, "high": 7, "log": False}),
    ("dropout=0:0.5", "dropout", {"kind": "float", "low": 0.0, "high": 0.5, "log": False}),
    ("lr=log:1e-3:3e-2", "lr", {"kind": "float", "low": 1e-3, "high": 3e-2, "log": True}),
    ("batch_size=log:32:512", "batch_size", {"kind": "int", "low": 32, "high": 512, "log": True}),
    ("augment=true,false", "augment", {"kind": "list", "values": [True, False]}),
    ("optimizer=adam,sgd", "optimizer", {"kind": "list", "values": ["adam", "sgd"]}),
    ("extra.crop=0,2", "extra.crop", {"kind": "list", "values": [0, 2]}),
])
def test_parse_param(text, knob, spec):
    assert sweeps.parse_param(text) == (knob, spec)


@pytest.mark.parametrize("text, words", [
    ("lr", "KNOB=VALUE"), ("colour=red", "unknown knob"), ("lr=abc", "not a valid float"),
    ("lr=0.1:0.01", "LOW < HIGH"), ("lr=log:0:1", "LOW > 0"), ("optimizer=a:b", "numeric knob"),
    ("batch_size=1.5", "not a valid int"), ("name=x", "unknown knob"), ("lr=", "no value"),
])
def test_parse_param_rejects_with_a_reason(text, words):
    with pytest.raises(ConfigError, match=words):
        sweeps.parse_param(text)


def _sweep(*params, **kw) -> sweeps.SweepConfig:
    base = TrainConfig.for_model("numpy_softmax", epochs=2, train_subset=100)
    return sweeps.SweepConfig(base, dict(sweeps.parse_param(p) for p in params), **kw)


def test_validate_checks_every_value_and_the_search():
    _sweep("lr=log:0.01:1", "batch_size=32,64", search="tpe").validate()
    with pytest.raises(ConfigError, match=r"lr=0.5,20.0: learning rate must be in \(0, 10\]"):
        _sweep("lr=0.5,20").validate()
    with pytest.raises(ConfigError, match="grid search needs a list"):
        _sweep("dropout=0:0.5", search="grid").validate()
    with pytest.raises(ConfigError, match="validation; the test set never chooses"):
        _sweep(metric="test_accuracy").validate()
    with pytest.raises(ConfigError, match="ensemble needs keep"):
        _sweep(ensemble="ens", keep=1).validate()
    with pytest.raises(ConfigError, match="search must be"):
        _sweep(search="bayes").validate()


def test_grid_size_and_round_trip(tmp_path):
    sweep = _sweep("lr=0.1,0.5", "seed=0-2", search="grid").validate()
    assert sweep.total_trials() == 6
    sweep.save(tmp_path / "s.json")
    assert sweeps.SweepConfig.load(tmp_path / "s.json") == sweep
    with pytest.raises(ConfigError, match="unknown sweep config keys"):
        sweeps.SweepConfig.from_dict({**sweep.to_dict(), "colour": 1})


def test_trial_config_applies_knobs_and_extras():
    base = TrainConfig.for_model("fast", name="mine")
    config = sweeps.trial_config(base, {"lr": 0.02, "extra.crop": 0, "seed": 3})
    assert (config.lr, config.seed, config.extra["crop"], config.name) == (0.02, 3, 0, None)
    assert base.extra["crop"] == 2  # the base is not changed


def test_parse_seeds():
    assert sweeps.parse_seeds("0-3") == [0, 1, 2, 3]
    assert sweeps.parse_seeds("5,1") == [5, 1]
    for bad in ("a", "3,3", "", "0-200"):
        with pytest.raises(ConfigError):
            sweeps.parse_seeds(bad)


def test_sweep_directory_is_a_run_that_readers_and_the_queue_accept(runs_root):
    run = sweeps.create(_sweep("lr=0.1,0.5", search="grid"))
    assert sweeps.is_sweep(run) and [r.id for r in sweeps.list_sweeps()] == [run.id]
    assert json.loads((run.path / "config.json").read_text())["model"] == "numpy_softmax"
    summary = rundir.list_runs()[0].summary()  # the runs list and dashboard read it like any run
    assert summary["id"] == run.id and summary["model"] == "numpy_softmax"
    assert run.status()["kind"] == "sweep"
    assert queue.positions() == {} and queue.dispatch() == []  # never mistaken for a training in line


def _events():
    return [
        {"type": "trial_state", "trial": "a", "number": 0, "state": "running", "params": {"lr": 0.1}},
        {"type": "trial_state", "trial": "b", "number": 1, "state": "running", "params": {"lr": 0.5}},
        {"type": "trial_result", "trial": "a", "epoch": 1, "val_accuracy": 0.5, "val_loss": 1.0, "node": "n1"},
        {"type": "trial_result", "trial": "b", "epoch": 1, "val_accuracy": 0.7, "val_loss": 0.9, "node": "n2"},
        {"type": "trial_state", "trial": "a", "number": 0, "state": "stopped", "params": {"lr": 0.1}},
        {"type": "trial_result", "trial": "b", "epoch": 2, "val_accuracy": 0.8, "val_loss": 0.7, "node": "n2"},
        {"type": "trial_state", "trial": "c", "number": 2, "state": "running", "params": {"lr": 9}},
        {"type": "trial_state", "trial": "c", "number": 2, "state": "failed", "params": {"lr": 9}, "error": "boom"},
        {"type": "trial_state", "trial": "d", "number": 3, "state": "running", "params": {"lr": 1}},
    ]


def test_trials_from_events():
    trials = sweep_results.trials_from_events(_events(), "running")
    assert [t["state"] for t in trials] == ["stopped", "running", "failed", "running"]
    assert trials[0]["stopped_early"] and trials[1]["val_accuracy"] == [0.7, 0.8]
    assert trials[2]["error"] == "boom"
    assert [t["number"] for t in sweep_results.rank(trials)] == [1, 0]
    counts = sweep_results.counts(trials, total=6)
    assert (counts["done"], counts["running"], counts["total"]) == (2, 2, 6)


def test_a_dead_driver_leaves_its_running_trials_interrupted():
    trials = sweep_results.trials_from_events(_events(), "interrupted")
    assert trials[3]["state"] == "interrupted" and trials[0]["state"] == "stopped"
    assert sweep_results.trials_from_events(_events(), "cancelled")[3]["state"] == "cancelled"


def test_sweep_view_tolerates_a_torn_log(runs_root):
    run = sweeps.create(_sweep("lr=0.1,0.5", search="grid"))
    run.write_status("running", pid=os.getpid())
    for e in _events():
        run.append_event(e.pop("type"), **e)
    with open(run.path / "events.jsonl", "a") as fh:
        fh.write('{"type": "trial_res')
    view = sweep_results.sweep_view(run)
    assert view["best"]["trial"] == "b" and len(view["trials"]) == 4 and view["model"] == "numpy_softmax"
    assert "1 stopped early" in view["headline"]


def test_a_failed_sweep_says_why_in_the_words_a_training_run_uses(runs_root, monkeypatch):
    """The sweep driver ends through the same run lifecycle as a training: a full disk reads as one, not as
    a bare `OSError: [Errno 28]` (issue 28 §1)."""
    import errno

    from mnist_core.training import sweep_ray

    full = OSError(errno.ENOSPC, "No space left on device", "/tmp/ray/session_latest/logs/raylet.out")

    def connect(address):
        raise full  # Ray writes its session files first: where a full disk shows up

    monkeypatch.setattr(sweep_ray, "connect", connect)
    run = sweeps.create(_sweep("lr=0.1,0.5", search="grid"))
    with pytest.raises(OSError):
        sweep_ray.run_sweep(run)
    status = run.status()
    assert status["state"] == "failed" and status["error"] == rundir.failure_reason(full)
    assert status["error"].startswith("the disk is full") and "raylet.out" in status["error"]
    assert run.events("end")[-1]["error"] == status["error"] and status["pid"] == os.getpid()


def test_a_failed_trial_says_why_in_the_words_a_training_run_uses(runs_root, tmp_path, monkeypatch):
    """A trial's failure reaches the sweep's events as rundir.failure_reason words, not a traceback's last
    line; a trial that could send nothing (its worker died) still gets that last line."""
    import errno
    import types

    import ray

    from mnist_core.training.sweep_recorder import Recorder

    full = OSError(errno.ENOSPC, "No space left on device", "/tmp/mnist-trial-x/trial/model.keras")
    traceback = tmp_path / "error.txt"
    traceback.write_text("Traceback (most recent call last):\n  ...\nOSError: [Errno 28] No space left on device\n")
    reasons = {"t1": rundir.failure_reason(full)}  # what the trial sent before it raised
    inbox = types.SimpleNamespace(take_failure=types.SimpleNamespace(remote=lambda tid: reasons.pop(tid, None)))
    monkeypatch.setattr(ray, "get", lambda ref: ref)
    run = sweeps.create(_sweep("lr=0.1,0.5", search="grid"))
    recorder = Recorder(run, sweeps.load_config(run), inbox)
    for trial_id in ("t1", "t2"):
        recorder.on_trial_error(types.SimpleNamespace(trial_id=trial_id, config={"lr": 0.1}, error_file=traceback))
    errors = {e["trial"]: e["error"] for e in run.events("trial_state")}
    assert errors["t1"].startswith("the disk is full") and "model.keras" in errors["t1"]
    assert errors["t2"] == "OSError: [Errno 28] No space left on device"
