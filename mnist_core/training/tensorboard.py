"""TensorBoard event files from run directories, written with TensorBoard's own writer (tf.summary).

The run directory stays the source of truth; this writes a snapshot of it in
the layout Keras' TensorBoard callback uses, so `tensorboard --logdir runs`
shows studio runs like any Keras run: `train/` holds batch_loss,
batch_accuracy (by global step), epoch_loss, epoch_accuracy and
epoch_learning_rate (by epoch) and the config as a text table;
`validation/` holds epoch_loss and epoch_accuracy from the validation set.
A sweep's run directory also gets the HParams plugin's experiment and one
session per trial (its parameters and per-epoch validation metrics), so
TensorBoard's HParams tab compares the trials.

By default a run's files go to runs/<id>/tensorboard/; with a logdir, to
<logdir>/<id>/. Writing again replaces the old snapshot whole.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from mnist_core.errors import UserError
from mnist_core.training.rundir import RunDir, get_run, list_runs

TB_DIR = "tensorboard"
SWEEP_FILE = "sweep.json"  # what marks a sweep's run directory (training/sweeps.py)
EPOCH_METRICS = ("loss", "accuracy")


def write_runs(run_ids: list[str] | None = None, logdir: str | Path | None = None,
               root: Path | None = None) -> list[dict]:
    """Write event files for the named runs (all runs when none are named); one summary per run."""
    runs = [get_run(run_id, root) for run_id in run_ids] if run_ids else list_runs(root)
    return [write_run(run, destination(run, logdir)) for run in runs]


class TensorBoardError(UserError, ValueError):
    """A destination that would overwrite something that is not a TensorBoard snapshot."""


def destination(run: RunDir, logdir: str | Path | None = None) -> Path:
    """runs/<id>/tensorboard by default (and when logdir is the runs folder itself), else <logdir>/<id>."""
    if not logdir or Path(logdir).resolve() == run.path.parent.resolve():
        return run.path / TB_DIR
    return Path(logdir) / run.id


def write_run(run: RunDir, dest: Path) -> dict:
    """Write one run's events under `dest` (replacing an older snapshot there)."""
    if (dest / "config.json").exists() or (dest.exists() and not dest.is_dir()):
        raise TensorBoardError(f"{dest} is not a TensorBoard folder (a run directory or a file); "
                               "choose another --logdir")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = dest.parent / f".tmp-{secrets.token_hex(4)}-{dest.name}"
    try:
        summary = _write_scalars(run, staged)
        summary["trials"] = _write_hparams(run, staged) if (run.path / SWEEP_FILE).is_file() else 0
        _replace(staged, dest)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return {"run": run.id, "path": str(dest), **summary}


def _write_scalars(run: RunDir, out: Path) -> dict:
    import tensorflow as tf

    batches, epochs = run.events("batch"), run.events("epoch")
    train = tf.summary.create_file_writer(str(out / "train"))
    with train.as_default():
        tf.summary.text("config", config_markdown(run), step=0)
        for e in batches:
            step = int(e.get("global_step", 0))
            for key in EPOCH_METRICS:
                _scalar(f"batch_{key}", e.get(key), step)
        for e in epochs:
            for key in EPOCH_METRICS:
                _scalar(f"epoch_{key}", e.get(key), int(e["epoch"]))
            _scalar("epoch_learning_rate", e.get("lr"), int(e["epoch"]))
        for e in run.events("test"):  # the final test figures, at the last epoch
            step = int(epochs[-1]["epoch"]) if epochs else 0
            _scalar("test_accuracy", e.get("test_accuracy"), step)
            _scalar("test_loss", e.get("test_loss"), step)
    train.close()
    if any(f"val_{key}" in e for e in epochs for key in EPOCH_METRICS):
        validation = tf.summary.create_file_writer(str(out / "validation"))
        with validation.as_default():
            for e in epochs:
                for key in EPOCH_METRICS:
                    _scalar(f"epoch_{key}", e.get(f"val_{key}"), int(e["epoch"]))
        validation.close()
    return {"batch_points": len(batches), "epochs": len(epochs)}


def _scalar(tag: str, value, step: int) -> None:
    import tensorflow as tf

    if isinstance(value, (int, float)) and value == value:  # skip missing values and NaN
        tf.summary.scalar(tag, float(value), step=step)


def config_markdown(run: RunDir) -> str:
    """The run's config.json as a Markdown table (TensorBoard's text tab renders Markdown)."""
    try:
        config = json.loads((run.path / "config.json").read_text())
    except (OSError, ValueError):
        return "config.json could not be read"
    rows = [f"| {key} | {json.dumps(value)} |" for key, value in config.items()]
    return "\n".join(["| setting | value |", "|---|---|", *rows])


def _write_hparams(run: RunDir, out: Path) -> int:
    """The HParams experiment of a sweep: one session per trial, its parameters and validation metrics."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    from mnist_core.training import sweep_results

    trials = sweep_results.trials_from_events(run.events(), run.status().get("state", "unknown"))
    knobs = sorted({k for t in trials for k in t["params"]})
    with tf.summary.create_file_writer(str(out)).as_default():
        hp.hparams_config(hparams=[hp.HParam(k) for k in knobs],
                          metrics=[hp.Metric("epoch_val_accuracy", display_name="validation accuracy"),
                                   hp.Metric("epoch_val_loss", display_name="validation loss")])
    for t in trials:
        writer = tf.summary.create_file_writer(str(out / "trials" / f"{t['number']:03d}-{t['trial']}"))
        with writer.as_default():
            hp.hparams({k: _hparam_value(v) for k, v in t["params"].items()}, trial_id=t["trial"])
            for epoch, acc, loss in zip(t["epochs"], t["val_accuracy"], t["val_loss"]):
                _scalar("epoch_val_accuracy", acc, epoch)
                _scalar("epoch_val_loss", loss, epoch)
        writer.close()
    return len(trials)


def _hparam_value(value):
    """HParams takes bool, int, float or str; anything else (a list of widths, None) as its JSON text."""
    return value if isinstance(value, (bool, int, float, str)) else json.dumps(value)


def _replace(staged: Path, dest: Path) -> None:
    if dest.exists():
        old = dest.parent / f".old-{secrets.token_hex(4)}-{dest.name}"
        os.replace(dest, old)
        os.replace(staged, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, dest)
