"""A run's progress as the dashboard shows it: status, headline and chart series.

Pure reading of a runs.RunDir, so the Train and Home pages stay thin and the
same view can be tested without a browser. Batch points are placed on a
fractional epoch axis (epoch 2, batch 50 of 100 -> 1.5) so batch and epoch
curves share one x axis.
"""

from __future__ import annotations

import math

from mnist_core.training.rundir import ACTIVE, RunDir

EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")


def format_seconds(seconds: float | None) -> str:
    """12 -> '12 s', 95 -> '1:35', 3725 -> '1:02:05'; None -> '?'."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def batch_series(events: list[dict], steps_per_epoch: int | None) -> dict[str, list[float]]:
    """Per-batch loss and accuracy against a fractional epoch axis."""
    out: dict[str, list[float]] = {"x": [], "global_step": [], "loss": [], "accuracy": []}
    for e in events:
        if e.get("type") != "batch":
            continue
        steps = steps_per_epoch or max(1, int(e.get("step", 1)))
        out["x"].append(float(e.get("epoch", 1)) - 1 + float(e.get("step", 0)) / steps)
        out["global_step"].append(int(e.get("global_step", 0)))
        out["loss"].append(float(e.get("loss", math.nan)))
        out["accuracy"].append(float(e.get("accuracy", math.nan)))
    return out


def epoch_series(events: list[dict]) -> dict[str, list[float]]:
    """Per-epoch train and validation metrics (missing values as NaN)."""
    rows = [e for e in events if e.get("type") == "epoch"]
    out: dict[str, list[float]] = {"epoch": [float(e.get("epoch", i + 1)) for i, e in enumerate(rows)]}
    for key in EPOCH_KEYS:
        out[key] = [float(e[key]) if e.get(key) is not None else math.nan for e in rows]
    return out


def headline(view: dict) -> str:
    """One line for the run: where it is, or how it ended."""
    state = view["state"]
    if state == "queued" and view.get("position"):
        return f"queued: number {view['position']} in line, waiting for a free place"
    if state == "queued":
        return "starting: loading TensorFlow and MNIST"
    if state == "running":
        if not view["steps"]:
            return "preparing the model and data"
        return (f"epoch {view['epoch']}/{view['epochs']} · batch {view['step']}/{view['steps']} · "
                f"ETA {format_seconds(view['eta'])}")
    if state == "completed":
        acc = view["test_accuracy"]
        return f"completed · test accuracy {acc:.2%}" if acc is not None else "completed"
    if state == "cancelled":
        return f"cancelled after {view['epochs_done']} of {view['epochs']} epochs; nothing was saved"
    return f"{state}: {view['error'] or 'no reason recorded'}"


def run_view(run: RunDir, position: int | None = None) -> dict:
    """Everything the dashboard draws for one run, read once from its directory.

    position: its place in the run queue (training/queue.positions()) while it waits.
    """
    status, events = run.status(), run.events()
    plan = next((e for e in events if e.get("type") == "plan"), {})
    try:
        config = run.config().to_dict()
    except (OSError, ValueError):
        config = {}
    last_batch = next((e for e in reversed(events) if e.get("type") == "batch"), {})
    epochs = epoch_series(events)
    view = {
        "id": run.id, "state": status.get("state", "unknown"), "active": status.get("state") in ACTIVE,
        "position": position,
        "model": config.get("model"), "name": status.get("model_name") or config.get("name"),
        "config": config, "epochs": plan.get("epochs") or config.get("epochs"),
        "epoch": status.get("epoch") or last_batch.get("epoch") or 1,
        "step": status.get("step") or last_batch.get("step") or 0,
        "steps": status.get("steps") or plan.get("steps_per_epoch") or 0,
        "train_size": plan.get("train_size"), "params": plan.get("params"),
        "progress": min(1.0, max(0.0, float(status.get("progress") or 0.0))),
        "eta": status.get("eta"), "test_accuracy": status.get("test_accuracy"), "error": status.get("error"),
        "started": status.get("started"), "ended": status.get("ended"),
        "saved": any(e.get("type") == "saved" for e in events),
        "epochs_done": len(epochs["epoch"]),
        "batches": batch_series(events, plan.get("steps_per_epoch")), "epoch_metrics": epochs,
    }
    view["headline"] = headline(view)
    return view
