"""The sweep driver: Ray Tune over the ordinary training code.

`run_sweep(run)` connects to Ray (a local one started with the machine's
cores, or the cluster at `address` / MNIST_STUDIO_RAY_ADDRESS), runs the
trials through Tune's searchers (grid and random: BasicVariantGenerator;
tpe: Optuna's TPE through OptunaSearch) and, when asked, the ASHA scheduler,
and writes the sweep's run directory as it goes.

Each trial calls training.loop.train() with the trial's TrainConfig and
reports every epoch's validation metrics to Tune from the Progress hook.
MNIST travels to the trials through the object store and finished models
come back as bytes through a small actor on the driver's node, so the nodes
need no shared filesystem; the driver saves the best `keep` of them into the
local store with store.save (atomic).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # events.jsonl is the sweep's log
os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")  # cancel is the run's stop request, as for training
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

from ray import tune  # noqa: E402 - this module is the Ray half: the CLI and pages import it only to run a sweep

from mnist_core.cluster import connect
from mnist_core.training import sweep_results, sweeps
from mnist_core.training.config import TrainConfig
from mnist_core.training.observers import Progress
from mnist_core.training.rundir import RunDir, failure_reason
from mnist_core.training.sweep_recorder import Recorder

HEARTBEAT_S = 1.0


def _dataset_bytes() -> bytes:
    """MNIST as npz bytes for the trials: the very file the CLI reads, so the splits match exactly."""
    from mnist_core.data import mnist

    data = mnist.load_mnist()
    source = Path(data.source)
    if source.is_file() and source.suffix == ".npz":
        return source.read_bytes()
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
    return buf.getvalue()


_SPLITS: dict = {}


def _trial_splits(data: bytes, validation: int):
    """The splits in a trial's process, from the driver's bytes (cached: reused actors skip this)."""
    import hashlib

    from mnist_core.data import mnist

    key = (hashlib.sha256(data).hexdigest(), validation)
    if key not in _SPLITS:
        path = Path(tempfile.gettempdir()) / f"mnist-studio-{key[0][:16]}.npz"
        if not path.is_file():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        _SPLITS[key] = mnist.load_splits(str(path), validation)
    return _SPLITS[key]


class _TuneReport(Progress):
    """A training observer: each epoch's metrics (validation included) go to Ray Tune."""

    def __init__(self, node: str):
        self.node = node

    def epoch_end(self, epoch, logs):
        tune.report({**{k: float(v) for k, v in logs.items()}, "epoch": int(epoch), "node": self.node})


def trainable(params: dict, base: dict = None, data: bytes = None, inbox=None) -> None:
    """One trial: the ordinary train() on the trial's config; the model goes back to the driver as bytes."""
    import ray
    from ray import tune

    from mnist_core.training.loop import train

    trial_id = tune.get_context().get_trial_id()
    try:
        config = sweeps.trial_config(TrainConfig.from_dict(base), params)
        splits = _trial_splits(data, config.validation)
        node = ray.get_runtime_context().get_node_id()
        with tempfile.TemporaryDirectory(prefix="mnist-trial-") as tmp:
            config.name = "trial"
            card = train(config, None, splits=splits, store_root=Path(tmp), progress=_TuneReport(node), save=True)
            files = {p.name: p.read_bytes() for p in (Path(tmp) / "trial").iterdir() if p.name != "card.json"}
    except Exception as exc:  # the driver records why in the words every run uses (a full disk says so)
        ray.get(inbox.fail.remote(trial_id, failure_reason(exc)))
        raise
    ray.get(inbox.put.remote(trial_id, card, files))


def _inbox_class():
    import ray

    @ray.remote(num_cpus=0)
    class Inbox:
        """Finished trials' models (and failed trials' reasons), held until the driver takes them."""

        def __init__(self):
            self.items, self.failures = {}, {}

        def put(self, trial_id, card, files):
            self.items[trial_id] = (card, files)

        def take(self, trial_id):
            return self.items.pop(trial_id, None)

        def fail(self, trial_id, reason):
            self.failures[trial_id] = reason

        def take_failure(self, trial_id):
            return self.failures.pop(trial_id, None)

    return Inbox


def _space(sweep: sweeps.SweepConfig) -> dict:
    """Tune's param_space for the sweep's knobs."""
    from ray import tune

    out = {}
    for knob, spec in sweep.space.items():
        kind = spec["kind"]
        if kind == "fixed":
            out[knob] = spec["value"]
        elif kind == "list":
            out[knob] = tune.grid_search(spec["values"]) if sweep.search == "grid" else tune.choice(spec["values"])
        elif kind == "int" and sweep.search == "grid":
            out[knob] = tune.grid_search(list(range(spec["low"], spec["high"] + 1)))
        elif kind == "int":
            out[knob] = (tune.lograndint if spec.get("log") else tune.randint)(spec["low"], spec["high"] + 1)
        else:
            out[knob] = (tune.loguniform if spec.get("log") else tune.uniform)(spec["low"], spec["high"])
    return out


def _search_alg(sweep: sweeps.SweepConfig):
    if sweep.search == "tpe":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return OptunaSearch(sampler=optuna.samplers.TPESampler(seed=sweep.seed))
    from ray.tune.search import BasicVariantGenerator

    # Tune ignores max_concurrent_trials for a variant generator: it takes its own limit.
    return BasicVariantGenerator(random_state=sweep.seed, max_concurrent=sweep.concurrent)


_RECORDERS: dict[str, Recorder] = {}  # Tune pickles its callbacks and stopper: they hold a key, not the Recorder


class _Callback(tune.Callback):
    def __init__(self, key: str):
        self.key = key

    def on_trial_start(self, iteration, trials, trial, **info):
        _RECORDERS[self.key].on_trial_start(trial)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        _RECORDERS[self.key].on_trial_result(trial, result)

    def on_trial_complete(self, iteration, trials, trial, **info):
        _RECORDERS[self.key].on_trial_complete(trial)

    def on_trial_error(self, iteration, trials, trial, **info):
        _RECORDERS[self.key].on_trial_error(trial)


class _CancelStopper(tune.stopper.Stopper):
    """The run's stop request ends every trial (Tune checks stop_all several times a second)."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, trial_id, result):
        return False

    def stop_all(self):
        recorder = _RECORDERS[self.key]
        if recorder.run.stop_requested():
            recorder.cancelled = True
        return recorder.cancelled


def _heartbeat(recorder: Recorder, done: threading.Event) -> None:
    while not done.wait(HEARTBEAT_S):
        recorder.status()
        if recorder.run.stop_requested():
            recorder.cancelled = True


def run_sweep(run: RunDir, address: str | None = None, store_root=None, progress=None) -> dict:
    """Run the sweep in `run` to the end; returns the sweep's view (training/sweep_results.sweep_view)."""
    sweep = sweeps.load_config(run).validate()
    started = time.time()
    try:
        with run.lifecycle(start={"sweep": sweep.to_dict()}, kind="sweep", total=sweep.total_trials()) as life:
            recorder = _run(run, sweep, address, store_root, progress)
            ensemble = _ensemble(sweep, recorder, store_root)
            state = "cancelled" if recorder.cancelled else "completed"
            life.end(state, {"saved": recorder.kept_names(), "ensemble": ensemble, "seconds": time.time() - started,
                             "nodes": sorted(n for n in recorder.nodes if n)},
                     progress=1.0, error="cancelled at the user's request" if state == "cancelled" else None)
    finally:
        try:
            import ray

            ray.shutdown()
        except Exception:  # noqa: BLE001 - shutting down is best effort
            pass
    return sweep_results.sweep_view(run)


def _run(run: RunDir, sweep: sweeps.SweepConfig, address: str | None, store_root, progress) -> Recorder:
    """Connect to Ray and run every trial, the heartbeat thread beside; it has stopped when this returns."""
    info = connect(address)
    run.write_status("running", address=info["address"], nodes=info["nodes"], ray_start_seconds=info["start_seconds"])
    run.append_event("ray", **info)
    recorder = Recorder(run, sweep, _inbox_class().options(**_on_this_node()).remote(), store_root, progress)
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(recorder, done), daemon=True)
    beat.start()
    try:
        _fit(run, sweep, recorder)
    finally:  # before the lifecycle writes the final state: a late heartbeat would write `running` over it
        done.set()
        beat.join()
    return recorder


def _on_this_node() -> dict:
    """Keep the inbox on the driver's node, so models cross the network once."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = ray.get_runtime_context().get_node_id()
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=True)}


def _fit(run: RunDir, sweep: sweeps.SweepConfig, recorder: Recorder) -> None:
    scheduler = None
    if sweep.asha and sweep.base.epochs > 1:
        from ray.tune.schedulers import ASHAScheduler

        # stop_last_trials=False: a trial that reaches the last epoch must still test and send its model.
        scheduler = ASHAScheduler(time_attr="training_iteration", max_t=sweep.base.epochs,
                                  grace_period=min(sweep.grace_period, sweep.base.epochs),
                                  reduction_factor=sweep.reduction_factor, stop_last_trials=False)
    _RECORDERS[run.id] = recorder
    fn = tune.with_parameters(trainable, base=sweep.base.to_dict(), data=_dataset_bytes(), inbox=recorder.inbox)
    tuner = tune.Tuner(
        tune.with_resources(fn, {"cpu": float(sweep.cpus_per_trial)}),
        param_space=_space(sweep),
        tune_config=tune.TuneConfig(metric=sweeps.METRIC, mode="max", search_alg=_search_alg(sweep),
                                    scheduler=scheduler,
                                    max_concurrent_trials=sweep.concurrent if sweep.search == "tpe" else None,
                                    num_samples=1 if sweep.search == "grid" else sweep.trials),
        run_config=tune.RunConfig(name="tune", storage_path=str((run.path / "ray").resolve()), verbose=0,
                                  stop=_CancelStopper(run.id), callbacks=[_Callback(run.id)],
                                  failure_config=tune.FailureConfig(max_failures=0)),
    )
    # Tune's result grid looks for result files that the sweep does not write (events.jsonl is its log).
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    try:
        tuner.fit()
    finally:
        _RECORDERS.pop(run.id, None)


def _ensemble(sweep: sweeps.SweepConfig, recorder: Recorder, store_root) -> str | None:
    names = recorder.kept_names()
    if not sweep.ensemble or len(names) < 2 or recorder.cancelled:
        return None
    from mnist_core.models import ensembles

    ensembles.create(sweep.ensemble, names, store_root)
    recorder.event("ensemble", name=sweep.ensemble, members=names)
    return sweep.ensemble

