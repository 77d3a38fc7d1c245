"""progress: what the dashboard draws for a run, read from a run directory."""

import json
import math
import os
import time

import pytest

from mnist_core.training import runview
from mnist_core.training.config import TrainConfig
from mnist_core.training.rundir import RunDir


def test_format_seconds():
    assert runview.format_seconds(12.4) == "12 s"
    assert runview.format_seconds(95) == "1:35"
    assert runview.format_seconds(3725) == "1:02:05"
    assert runview.format_seconds(None) == "?"
    assert runview.format_seconds(float("inf")) == "?"


def test_batch_points_sit_on_a_fractional_epoch_axis():
    events = [{"type": "batch", "epoch": 1, "step": 5, "global_step": 5, "loss": 2.0, "accuracy": 0.1},
              {"type": "epoch", "epoch": 1, "loss": 1.0},
              {"type": "batch", "epoch": 2, "step": 10, "global_step": 20, "loss": 0.5, "accuracy": 0.9}]
    series = runview.batch_series(events, steps_per_epoch=10)
    assert series["x"] == [0.5, 2.0]
    assert series["loss"] == [2.0, 0.5] and series["global_step"] == [5, 20]


def test_epoch_series_fills_missing_metrics_with_nan():
    events = [{"type": "epoch", "epoch": 1, "loss": 1.0, "accuracy": 0.5},
              {"type": "epoch", "epoch": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7}]
    series = runview.epoch_series(events)
    assert series["epoch"] == [1.0, 2.0]
    assert math.isnan(series["val_loss"][0]) and series["val_loss"][1] == 0.6


def _run(tmp_path, **config) -> RunDir:
    return RunDir.create(TrainConfig.for_model("softmax", epochs=3, **config), root=tmp_path)


def test_view_of_a_running_run(tmp_path):
    run = _run(tmp_path, name="quick")
    run.write_status("running", pid=os.getpid(), model_name="quick")
    run.append_event("plan", epochs=3, steps_per_epoch=10, train_size=1000, params=7850)
    run.append_event("batch", epoch=1, step=4, global_step=4, loss=2.1, accuracy=0.3)
    run.heartbeat(epoch=1, step=4, steps=10, progress=4 / 30, eta=75.0)
    view = runview.run_view(run)
    assert view.active and view.state == "running"
    assert view.headline == "epoch 1/3 · batch 4/10 · ETA: measuring speed"  # one batch: no rate yet
    assert view.batches["x"] == [0.4]
    assert view.epochs_done == 0 and view.train_size == 1000 and view.name == "quick"


def test_view_of_finished_runs(tmp_path):
    done = _run(tmp_path)
    done.write_status("running", pid=os.getpid())
    done.append_event("epoch", epoch=1, loss=0.5, accuracy=0.9, val_loss=0.4, val_accuracy=0.91)
    done.append_event("saved", name="softmax-x")
    done.write_status("completed", test_accuracy=0.9123, progress=1.0, model_name="softmax-x")
    view = runview.run_view(done)
    assert not view.active and view.saved
    assert view.headline == "completed · test accuracy 91.23%"

    failed = _run(tmp_path)
    failed.write_status("failed", error="MemoryError: out of memory")
    assert runview.run_view(failed).headline == "failed: MemoryError: out of memory"

    cancelled = _run(tmp_path)
    cancelled.write_status("cancelled", error="cancelled at the user's request")
    assert "cancelled after 0 of 3 epochs" in runview.run_view(cancelled).headline


def test_a_dead_process_reads_as_interrupted(tmp_path):
    run = _run(tmp_path)
    run.write_status("running", pid=2**22 + 12345)  # no such process
    view = runview.run_view(run)
    assert view.state == "interrupted" and not view.active
    assert view.headline.startswith("interrupted: the training process ended")


def _batches(times_and_steps):
    return [{"type": "batch", "t": t, "global_step": g, "epoch": 1, "step": g} for t, g in times_and_steps]


def test_eta_comes_from_the_rate_after_warm_up():
    # The first batch took 10 s (tracing); then 10 steps a second. 100 steps in all.
    events = _batches([(10.0, 1), (11.0, 11), (12.0, 21), (13.0, 31)])
    assert runview.throughput(events)["rate"] == pytest.approx(10.0)
    assert runview.eta_seconds(events, 100, now=13.0) == pytest.approx(6.9)
    assert runview.eta_seconds(events, 100, now=15.0) == pytest.approx(4.9)  # time since the last point counts
    # Counting from the start, as before, would have said 13 s / 31 steps * 69 steps left, about 29 s.


def test_no_eta_before_warm_up():
    assert runview.throughput(_batches([(10.0, 1), (10.5, 6)])) is None  # two points: the first is tracing
    assert runview.throughput(_batches([(10.0, 1), (10.5, 6), (11.0, 11)])) is None  # a 0.5 s span is too short
    assert runview.eta_seconds(_batches([(10.0, 1)]), 100, now=11.0) is None


def test_running_view_uses_the_measured_eta(tmp_path):
    run = _run(tmp_path, name="quick")
    run.write_status("running", pid=os.getpid(), model_name="quick")
    run.append_event("plan", epochs=3, steps_per_epoch=10, train_size=1000, params=7850)
    now = time.time()
    for t, g in [(now - 6, 1), (now - 4, 5), (now - 2, 9), (now, 13)]:
        with open(run.path / "events.jsonl", "a") as fh:
            fh.write(json.dumps({"type": "batch", "t": t, "epoch": 2, "step": g - 10, "global_step": g,
                                 "loss": 1.0, "accuracy": 0.5}) + "\n")
    view = runview.run_view(run, now=now)
    assert view.eta == pytest.approx(17 / 2.0)  # 2 steps/s, 17 of 30 steps left
    assert "ETA 8 s" in view.headline or "ETA 9 s" in view.headline


def test_list_runs_keeps_creation_order_while_statuses_change(tmp_path):
    from mnist_core.training import rundir

    first = _run(tmp_path, name="first")
    time.sleep(0.02)
    second = _run(tmp_path, name="second")
    for _ in range(3):  # status writes touch the folders; the order must not follow them
        first.write_status("running", pid=os.getpid())
        assert [r.id for r in rundir.list_runs(tmp_path)] == [second.id, first.id]
        second.write_status("running", pid=os.getpid())
        assert [r.id for r in rundir.list_runs(tmp_path)] == [second.id, first.id]


def test_smoothing_is_tensorboards_debiased_moving_average():
    assert runview.smooth([1.0, 2.0, 3.0], 0.0) == [1.0, 2.0, 3.0]
    out = runview.smooth([2.0, 2.0, 2.0], 0.9)
    assert out == pytest.approx([2.0, 2.0, 2.0])  # debiased: a constant stays itself, not pulled to 0
    out = runview.smooth([0.0, 10.0], 0.5)
    assert out == pytest.approx([0.0, 5.0 / 0.75])  # EMA 5, debiased by 1 - 0.5**2
    assert math.isnan(runview.smooth([1.0, math.nan, 1.0], 0.5)[1])
    with pytest.raises(ValueError):
        runview.smooth([1.0], 1.0)


def test_a_preparing_run_says_which_stage_it_is_in(tmp_path):
    """The 10-15 s before a busy machine's first batch say where they go (issue 23 item 5)."""
    run = _run(tmp_path, name="quick")
    run.write_status("running", pid=os.getpid(), stage="importing TensorFlow")
    assert runview.run_view(run).headline == "preparing the model and data: importing TensorFlow"
    run.append_event("plan", epochs=3, steps_per_epoch=10, train_size=1000, params=7850)
    run.heartbeat(stage="compiling the training step")
    assert runview.run_view(run).headline == "epoch 1/3 · compiling the training step"
    run.heartbeat(epoch=1, step=4, steps=10, stage=None)  # the first batches clear it
    assert runview.run_view(run).headline == "epoch 1/3 · batch 4/10 · ETA: measuring speed"


def test_the_cli_shows_one_run_as_its_run_view(runs_root, capsys):
    from mnist_core.cli import main

    run = RunDir.create(TrainConfig.for_model("softmax", epochs=3, name="quick"))
    run.write_status("running", pid=os.getpid(), model_name="quick", stage="importing TensorFlow")
    assert main(["runs", run.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == run.id and shown["state"] == "running" and shown["name"] == "quick"
    assert shown["headline"] == "preparing the model and data: importing TensorFlow"
    assert shown == runview.run_view(run).to_json()
    assert main(["runs", run.id]) == 0 and capsys.readouterr().out.strip().endswith("importing TensorFlow")
    assert main(["runs", "no-such-run"]) == 2 and "no run 'no-such-run'" in capsys.readouterr().err
