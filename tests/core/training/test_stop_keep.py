"""Stop and keep: a run asked to stop after its current epoch saves the model as it stands."""

import os
import time

import pytest

from mnist_core.cli import main as cli_main
from mnist_core.models import store
from mnist_core.training import loop, rundir, runview
from mnist_core.training.config import TrainConfig
from mnist_core.training.observers import Progress


class KeepDuringFirstEpoch(Progress):
    """Presses 'Stop and keep' at the first batch, as a user would mid-epoch."""

    def __init__(self, run):
        self.run = run

    def update(self, epoch, epochs, step, steps, logs, eta):
        if epoch == 1 and step == 1:
            self.run.request_stop(keep=True)


@pytest.mark.parametrize("kind", ["numpy_mlp", "lenet5"])
def test_stopped_after_epoch_1_of_3_is_saved_and_says_so(kind, tiny_splits, store_root, runs_root):
    config = TrainConfig.for_model(kind, epochs=3, batch_size=50, name=f"kept-{kind.replace('_', '-')}")
    run = rundir.RunDir.create(config)
    card = loop.train(config, run, splits=tiny_splits, progress=KeepDuringFirstEpoch(run))
    saved = store.read_card(config.name)
    assert saved["epochs_trained"] == 1 and len(saved["history"]["loss"]) == 1
    assert saved["stopped_early"]["epoch"] == 1 and saved["stopped_early"]["epochs"] == 3
    assert "stopped early at epoch 1 of 3" in saved["stopped_early"]["note"]
    assert card["test_accuracy"] == saved["test_accuracy"]
    assert [e["epoch"] for e in run.events("epoch")] == [1]
    assert run.status()["state"] == "completed"
    view = runview.run_view(run)
    assert view.headline.startswith("stopped early at epoch 1 of 3, model kept")


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
