"""Training's observers: every backend reports the same calls, and an observer can stop a run."""

import io

import pytest

from mnist_core.cli.training import TerminalProgress
from mnist_core.training import loop
from mnist_core.training.config import TrainConfig
from mnist_core.training.observers import Progress


class Recorder(Progress):
    def __init__(self, stop_after: int | None = None):
        self.updates, self.epochs, self.stop_after = [], [], stop_after

    def update(self, epoch, epochs, step, steps, logs, eta):
        self.updates.append((epoch, epochs, step, steps))

    def epoch_end(self, epoch, logs):
        self.epochs.append((epoch, set(logs)))

    def epoch_model(self, epoch, net):
        return epoch == self.stop_after


@pytest.mark.parametrize("kind", ["mlp", "numpy_mlp"])
def test_an_observer_sees_every_batch_and_can_stop_after_an_epoch(kind, tiny_splits):
    recorder = Recorder(stop_after=2)
    config = TrainConfig.for_model(kind, epochs=4, batch_size=100)
    card = loop.train(config, splits=tiny_splits, progress=recorder, save=False)
    assert card["epochs_trained"] == 2 and [e for e, _ in recorder.epochs] == [1, 2]
    assert recorder.updates == [(e, 4, s, 5) for e in (1, 2) for s in range(1, 6)]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "elapsed"} <= recorder.epochs[0][1]


def test_terminal_progress_is_an_observer():
    out = io.StringIO()
    bar = TerminalProgress(out)
    assert isinstance(bar, Progress) and bar.epoch_model(1, None) is False and not bar.stop_requested()
    bar.epoch_end(1, {"loss": 0.5, "accuracy": 0.9, "elapsed": 2.0})
    assert out.getvalue() == "epoch 1: loss 0.5000 acc 0.9000 (2.0s)\n"


def test_eta_is_measured_after_the_first_batch(monkeypatch):
    from mnist_core.training import observers

    seen = []

    class Watch(observers.Progress):
        def update(self, epoch, epochs, step, steps, logs, eta):
            seen.append(eta)

    clock = iter([100.0, 110.0, 111.0, 113.0, 114.0])  # start; the first batch took 10 s (tracing)
    monkeypatch.setattr(observers.time, "time", lambda: next(clock))
    broadcast = observers.Broadcast(epochs=1, steps=100, observers=[Watch()])
    for step in (1, 11, 31, 41):  # then 10 steps a second
        broadcast.batch(1, step, 1.0, 0.5)
    assert seen[:2] == [None, None]  # no rate yet, then only 1 s of one
    assert seen[2] == pytest.approx(69 * 3 / 30)
    assert seen[3] == pytest.approx(59 * 4 / 40)  # 5.9 s left; counting from the start would have said 14 / 41 * 59, about 20 s
