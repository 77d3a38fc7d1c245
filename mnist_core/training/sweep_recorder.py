"""What a sweep leaves on disk as Tune runs it: trial events, its status, the best `keep` models.

The driver (sweep_ray) hands Tune's trial callbacks to a Recorder; it writes the sweep's run
directory and saves the kept models into the local store, so nothing here needs Tune itself.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from mnist_core.cluster import last_line
from mnist_core.training import sweeps
from mnist_core.training.rundir import RunDir


class Recorder:
    """Writes trial events and the sweep's status; keeps the best `keep` models in the store."""

    def __init__(self, run: RunDir, sweep: sweeps.SweepConfig, inbox, store_root=None, progress=None):
        self.run, self.sweep, self.inbox, self.store_root, self.progress = run, sweep, inbox, store_root, progress
        self.lock = threading.RLock()  # the heartbeat thread writes status too
        self.cancelled = False
        self.kept: list[tuple] = []  # (sort key, model name, trial id)
        self.numbers: dict[str, int] = {}
        self.states: dict[str, str] = {}
        self.nodes: set[str] = set()

    def event(self, kind: str, **fields) -> None:
        with self.lock:
            self.run.append_event(kind, **fields)

    def status(self, state: str | None = None, **fields) -> None:
        with self.lock:
            if state:
                self.run.write_status(state, **fields)
            else:
                self.run.heartbeat(**fields, **self.counts())

    def counts(self) -> dict:
        states = list(self.states.values())
        return {s: states.count(s) for s in ("running", "completed", "stopped", "failed", "cancelled")}

    def _number(self, trial) -> int:
        return self.numbers.setdefault(trial.trial_id, len(self.numbers))

    def state(self, trial, state: str, **fields) -> None:
        self.states[trial.trial_id] = state
        self.event("trial_state", trial=trial.trial_id, number=self._number(trial), state=state,
                   params=dict(trial.config), **fields)
        self.status()
        if self.progress:
            self.progress.update({**self.counts(), "total": self.sweep.total_trials()})

    # -- Tune's callback hooks (the driver's thread) ---------------------------
    def on_trial_start(self, trial) -> None:
        self.state(trial, "running")

    def on_trial_result(self, trial, result: dict) -> None:
        keys = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
        self.nodes.add(result.get("node"))
        self.event("trial_result", trial=trial.trial_id, epoch=int(result.get("training_iteration", 0)),
                   node=result.get("node"), **{k: result[k] for k in keys if k in result})

    def on_trial_complete(self, trial) -> None:
        import ray

        item = ray.get(self.inbox.take.remote(trial.trial_id))
        if item is not None:
            self.state(trial, "completed")
            self._maybe_keep(trial, *item)
        else:  # stopped before it finished: by ASHA, or by a cancel
            self.state(trial, "cancelled" if self.cancelled else "stopped")

    def on_trial_error(self, trial) -> None:
        import ray

        # The trial's own words (rundir.failure_reason, as every run says it), else its traceback's last line:
        # a trial whose worker died could not send any.
        message = ray.get(self.inbox.take_failure.remote(trial.trial_id))
        if not message:
            try:  # Tune writes the trial's traceback beside the driver before it calls back
                message = last_line(Path(trial.error_file).read_text(errors="replace"))
            except (OSError, TypeError):
                message = "the trial failed; Ray recorded no reason"
        self.state(trial, "failed", error=message)

    # -- kept models -----------------------------------------------------------
    def _maybe_keep(self, trial, card: dict, files: dict) -> None:
        from mnist_core.models import selection, store

        if self.sweep.keep <= 0:
            return
        score = selection.validation_scores(card)
        key = (-score["val_accuracy"], score["val_loss"], self._number(trial))
        if len(self.kept) >= self.sweep.keep and key >= max(self.kept)[0]:
            return
        name = f"{self.sweep.name or self.run.id}-t{self._number(trial):02d}"
        card = {**card, "name": name, "run_id": self.run.id,
                "sweep": {"id": self.run.id, "trial": trial.trial_id, "number": self._number(trial),
                          "params": dict(trial.config)}}
        store.save(name, _net_from_files(files), card, self.store_root)
        self.kept.append((key, name, trial.trial_id))
        self.event("trial_saved", trial=trial.trial_id, name=name)
        if len(self.kept) > self.sweep.keep:  # the new one pushed the weakest out of the best `keep`
            worst = max(self.kept)
            self.kept.remove(worst)
            store.delete(worst[1], self.store_root)
            self.event("trial_unsaved", trial=worst[2], name=worst[1])

    def kept_names(self) -> list[str]:
        return [name for _, name, _ in sorted(self.kept)]


def _net_from_files(files: dict):
    """The network from a trial's model file bytes (the driver re-saves it through store.save)."""
    from mnist_core.models import store

    with tempfile.TemporaryDirectory(prefix="mnist-sweep-") as tmp:
        if store.KERAS_FILE in files:
            import keras

            path = Path(tmp) / store.KERAS_FILE
            path.write_bytes(files[store.KERAS_FILE])
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        from mnist_core.models.numpy_nets import NumpyNet

        path = Path(tmp) / store.NUMPY_FILE
        path.write_bytes(files[store.NUMPY_FILE])
        return NumpyNet.load(path)
