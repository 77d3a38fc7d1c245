"""Stop and keep: a run asked to stop saves the model as it stands at the next batch; Cancel also acts there."""

import os
import time

import pytest

from mnist_core.cli import main as cli_main
from mnist_core.models import store
from mnist_core.training import loop, rundir, runview
from mnist_core.training.config import TrainConfig
from mnist_core.training.observers import Progress


class KeepDuringFirstEpoch(Progress):
    """Presses 'Stop and keep' (or Cancel) at the first batch, as a user would mid-epoch; counts batches after."""

    def __init__(self, run, keep: bool = True):
        self.run, self.keep, self.batches = run, keep, []

    def update(self, epoch, epochs, step, steps, logs, eta):
        self.batches.append((epoch, step, steps))
        if epoch == 1 and step == 1:
            self.run.request_stop(keep=self.keep)


@pytest.mark.parametrize("kind", ["numpy_mlp", "lenet5"])
def test_stopped_after_epoch_1_of_3_is_saved_and_says_so(kind, tiny_splits, store_root, runs_root):
    config = TrainConfig.for_model(kind, epochs=3, batch_size=50, name=f"kept-{kind.replace('_', '-')}")
    run = rundir.RunDir.create(config)
    card = loop.train(config, run, splits=tiny_splits, progress=KeepDuringFirstEpoch(run))
    saved = store.read_card(config.name)
    assert saved["epochs_trained"] == 1 and len(saved["history"]["loss"]) == 1
    assert saved["stopped_early"]["epoch"] == 1 and saved["stopped_early"]["epochs"] == 3
    assert "stopped early at epoch 1 of 3 (batch 1 of 10)" in saved["stopped_early"]["note"]
    assert card["test_accuracy"] == saved["test_accuracy"]
    assert [e["epoch"] for e in run.events("epoch")] == [1]
    assert run.status()["state"] == "completed"
    view = runview.run_view(run)
    assert view.headline.startswith("stopped early at epoch 1 of 3, model kept")


@pytest.mark.parametrize("keep", [True, False])
def test_stop_and_keep_and_cancel_act_at_the_next_batch(keep, tiny_splits, store_root, runs_root):
    """Clicked during batch 1 of 10, training ends after it: not at the epoch's end (issue 23 item 5)."""
    config = TrainConfig.for_model("lenet5", epochs=3, batch_size=50, name="at-once")
    run = rundir.RunDir.create(config)
    pressed = KeepDuringFirstEpoch(run, keep=keep)
    try:
        loop.train(config, run, splits=tiny_splits, progress=pressed)
    except loop.Cancelled:
        assert not keep
    assert pressed.batches == [(1, 1, 10)]
    assert run.status()["state"] == ("completed" if keep else "cancelled")
    assert (config.name in store.list_names()) == keep


def test_a_short_epoch_calls_back_after_every_batch(tiny_splits, store_root, runs_root):
    """`fast` runs 4 batches a Keras step call; an epoch of 4 batches was one call, one chance to stop."""
    assert loop.steps_per_call(4, 4) == 1 and loop.steps_per_call(4, 215) == 4 and loop.steps_per_call(1, 1) == 1
    config = TrainConfig.for_model("lenet5", epochs=1, batch_size=125, steps_per_execution=4, name="short")
    run = rundir.RunDir.create(config)
    pressed = KeepDuringFirstEpoch(run, keep=False)
    with pytest.raises(loop.Cancelled):
        loop.train(config, run, splits=tiny_splits, progress=pressed)
    assert pressed.batches == [(1, 1, 4)]


def test_a_run_that_finishes_all_epochs_says_nothing_of_stopping(tiny_splits, store_root, runs_root):
    config = TrainConfig.for_model("numpy_softmax", epochs=2, batch_size=50, name="full")
    card = loop.train(config, rundir.RunDir.create(config), splits=tiny_splits)
    assert card["epochs_trained"] == 2 and "stopped_early" not in store.read_card("full")


def test_keep_on_a_run_still_in_line_cancels_it(runs_root):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax", epochs=3))
    run.request_stop(keep=True)  # nothing trained yet: nothing to keep
    assert run.stop_requested() and not run.keep_requested()


def test_cli_stop_keep(runs_root, capsys):
    running = rundir.RunDir.create(TrainConfig.for_model("softmax", epochs=3), admitted=time.time())
    running.write_status("running", pid=os.getpid())
    assert cli_main(["stop", running.id, "--keep"]) == 0
    assert running.keep_requested() and not running.stop_requested()
    assert "save the model as it stands" in capsys.readouterr().out
    other = rundir.RunDir.create(TrainConfig.for_model("softmax", epochs=3), admitted=time.time())
    other.write_status("running", pid=os.getpid())
    assert cli_main(["stop", other.id]) == 0
    assert other.stop_requested() and not other.keep_requested()
    assert "nothing will be saved" in capsys.readouterr().out


def test_cancel_does_not_wait_for_the_epochs_validation(tiny_splits, store_root, runs_root, monkeypatch):
    """Keras validates at the end of an epoch even after stop_training: a cancelled run must not pay for it."""
    import keras

    evaluated = []
    evaluate = keras.Model.evaluate

    def spy(self, *args, **kwargs):
        evaluated.append(1)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "evaluate", spy)
    config = TrainConfig.for_model("lenet5", epochs=3, batch_size=50, name="cancelled")
    run = rundir.RunDir.create(config)
    with pytest.raises(loop.Cancelled):
        loop.train(config, run, splits=tiny_splits, progress=KeepDuringFirstEpoch(run, keep=False))
    assert evaluated == [] and run.status()["state"] == "cancelled"
