"""Who watches a training run: one observer protocol and the observers the core ships.

Both backends report each finished batch and epoch to a Broadcast, which works
out the global step and the time left once and passes them on to every
observer: the RunLogger (the run directory the dashboard reads), the CLI's
terminal bar, a benchmark's probe. An observer subclasses Progress and
overrides what it needs.
"""

from __future__ import annotations

import time

from mnist_core.training.rundir import RunDir

BATCH_EVENT_INTERVAL_S = 0.25  # throttle: a few batch points a second is plenty for a chart
HEARTBEAT_INTERVAL_S = 1.0
CANCEL, KEEP = "cancel", "keep"  # what Broadcast.batch answers when an observer asks training to stop


class Progress:
    """The observer protocol. Every method has a do-nothing default."""

    def update(self, epoch: int, epochs: int, step: int, steps: int, logs: dict, eta: float | None) -> None:
        """After a batch: `step` of `steps` in `epoch` of `epochs`; logs has loss, accuracy and elapsed."""

    def epoch_end(self, epoch: int, logs: dict) -> None:
        """After an epoch: loss, accuracy, val_* when there is a validation set, lr, elapsed."""

    def epoch_model(self, epoch: int, net) -> bool:
        """After each epoch, the network being trained (benchmarks test it); True stops training there."""
        return False

    def stop_requested(self) -> bool:
        """Checked after every batch; True cancels the run (nothing is saved)."""
        return False

    def keep_requested(self) -> bool:
        """Checked after every batch; True stops training there and the model is kept (tested, saved)."""
        return False


class RunLogger(Progress):
    """Writes a run directory's throttled batch events, epoch events and heartbeats; relays its stop requests."""

    def __init__(self, run: RunDir, epochs: int):
        self.run, self.epochs = run, epochs
        self.last_event = self.last_beat = 0.0

    def update(self, epoch, epochs, step, steps, logs, eta):
        now = time.time()
        if now - self.last_event >= BATCH_EVENT_INTERVAL_S or step == steps:
            self.last_event = now
            self.run.append_event("batch", epoch=epoch, step=step, global_step=(epoch - 1) * steps + step, **logs)
        if now - self.last_beat >= HEARTBEAT_INTERVAL_S:
            self.last_beat = now
            done = ((epoch - 1) * steps + step) / (steps * epochs)
            self.run.heartbeat(epoch=epoch, step=step, steps=steps, progress=done, eta=eta, stage=None)

    def epoch_end(self, epoch, logs):
        self.run.append_event("epoch", epoch=epoch, **logs)
        self.run.heartbeat(epoch=epoch, progress=epoch / self.epochs)

    def stop_requested(self) -> bool:
        return self.run.stop_requested()

    def keep_requested(self) -> bool:
        return self.run.keep_requested()  # stop and keep: training ends at this batch and the model is saved


class Broadcast:
    """What both backends report to: passes each batch and epoch on to every observer."""

    WARMUP_S = 2.0  # as runview.WARMUP_S: no ETA before the rate is measured past the first (tracing) batch

    def __init__(self, epochs: int, steps: int, observers: list[Progress]):
        self.epochs, self.steps, self.observers = epochs, steps, observers
        self.start = time.time()
        self.first: tuple[float, int] | None = None  # (time, global step) at the end of the first batch
        self.kept_at: tuple[int, int] | None = None  # (epoch, step) where a stop-and-keep ended training

    def _eta(self, now: float, global_step: int) -> float | None:
        """Time left from the steps per second measured since the first batch (None until 2 s of that)."""
        if self.first is None:
            self.first = (now, global_step)
            return None
        span, steps = now - self.first[0], global_step - self.first[1]
        if span < self.WARMUP_S or steps <= 0:
            return None
        return (self.steps * self.epochs - global_step) * span / steps

    def batch(self, epoch: int, step: int, loss: float, accuracy: float) -> str | None:
        """Report one finished batch; returns CANCEL or KEEP when an observer asks training to stop, else None."""
        # From epoch and step, not a counter: with steps_per_execution > 1 Keras reports every Nth batch.
        step = min(step, self.steps)
        now = time.time()
        elapsed = now - self.start
        eta = self._eta(now, (epoch - 1) * self.steps + step)
        logs = {"loss": float(loss), "accuracy": float(accuracy), "elapsed": elapsed}
        for observer in self.observers:
            observer.update(epoch, self.epochs, step, self.steps, logs, eta)
        if any(observer.stop_requested() for observer in self.observers):
            return CANCEL
        if any(observer.keep_requested() for observer in self.observers):
            self.kept_at = self.kept_at or (epoch, step)
            return KEEP
        return None

    def stopped_early(self) -> dict:
        """{'stopped_early': {...}} for the card of a run stopped and kept before its last batch, else {}."""
        if self.kept_at is None or self.kept_at >= (self.epochs, self.steps):
            return {}
        epoch, step = self.kept_at
        return {"stopped_early": {"epoch": epoch, "epochs": self.epochs, "step": step, "steps": self.steps,
                                  "note": f"stopped early at epoch {epoch} of {self.epochs} (batch {step} of "
                                          f"{self.steps}) at the user's request"}}

    def epoch(self, epoch: int, logs: dict, net) -> bool:
        """Report a finished epoch; returns True when an observer has seen enough (training stops, normally)."""
        logs = {k: float(v) for k, v in logs.items()}
        logs["elapsed"] = time.time() - self.start
        for observer in self.observers:
            observer.epoch_end(epoch, logs)
        return any([observer.epoch_model(epoch, net) for observer in self.observers])  # a list: every one sees it
