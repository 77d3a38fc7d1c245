"""A run's progress as the dashboard shows it: status, headline and chart series.

Pure reading of a runs.RunDir, so the Train and Home pages stay thin and the
same view can be tested without a browser. Batch points are placed on a
fractional epoch axis (epoch 2, batch 50 of 100 -> 1.5) so batch and epoch
curves share one x axis.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

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


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased so the start is not pulled to 0.

    weight 0 leaves the values as they are; 0.99 smooths heavily. NaNs pass
    through without resetting the average.
    """
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    out, last, count = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last, count = last * weight + (1 - weight) * v, count + 1
        out.append(last / (1 - weight ** count))
    return out


def epoch_series(events: list[dict]) -> dict[str, list[float]]:
    """Per-epoch train and validation metrics (missing values as NaN)."""
    rows = [e for e in events if e.get("type") == "epoch"]
    out: dict[str, list[float]] = {"epoch": [float(e.get("epoch", i + 1)) for i, e in enumerate(rows)]}
    for key in EPOCH_KEYS:
        out[key] = [float(e[key]) if e.get(key) is not None else math.nan for e in rows]
    return out


WARMUP_S = 2.0  # the first batch pays for tracing the graph: measure the rate only once past it


def throughput(events: list[dict], warmup_s: float = WARMUP_S) -> dict | None:
    """Steps per second measured after warm-up: {rate, step, t} of the last batch, or None while too early.

    The first batch event is never a reference (its time includes tracing the
    train step), and the measured span must reach `warmup_s`. The span crosses
    epoch ends, so validation time is part of the rate.
    """
    batches = [e for e in events if e.get("type") == "batch" and e.get("t") is not None]
    if len(batches) < 3:
        return None
    first, last = batches[1], batches[-1]
    steps = int(last.get("global_step", 0)) - int(first.get("global_step", 0))
    span = float(last["t"]) - float(first["t"])
    if steps <= 0 or span < warmup_s:
        return None
    return {"rate": steps / span, "step": int(last.get("global_step", 0)), "t": float(last["t"])}


def eta_seconds(events: list[dict], total_steps: int, now: float, warmup_s: float = WARMUP_S) -> float | None:
    """Time left from the measured rate after warm-up (None until there is one): the dashboard's ETA."""
    rate = throughput(events, warmup_s)
    if rate is None or not total_steps:
        return None
    left = max(0, total_steps - rate["step"]) / rate["rate"]
    return max(0.0, left - max(0.0, now - rate["t"]))


@dataclass(frozen=True)
class RunView:
    """Everything the dashboard draws for one run, read once from its directory."""

    id: str
    path: str
    state: str
    active: bool
    position: int | None  # place in the run queue while it waits (1 = next)
    model: str | None  # the zoo kind
    name: str | None  # the model name it saves under
    config: dict
    epochs: int | None
    epoch: int
    step: int
    steps: int
    train_size: int | None
    params: int | None
    progress: float  # 0..1
    eta: float | None  # seconds left, once the speed is measured
    images_per_s: float | None
    test_accuracy: float | None
    error: str | None
    stopped_early: dict | None
    stop_requested: bool  # Cancel was pressed
    keep_requested: bool  # Stop and keep was pressed
    started: float | None
    ended: float | None
    stage: str | None  # what a running run does between batches: loading the data, importing TensorFlow, ...
    saved: bool
    epochs_done: int
    batches: dict = field(repr=False)  # batch_series(): x, global_step, loss, accuracy
    epoch_metrics: dict = field(repr=False)  # epoch_series(): epoch and EPOCH_KEYS

    @property
    def headline(self) -> str:
        return headline(self)

    def to_json(self) -> dict:
        """A JSON-ready dict of every field and the headline (the CLI's `runs RUN_ID --json`)."""
        return {**asdict(self), "headline": self.headline}


def headline(view: RunView) -> str:
    """One line for the run: where it is, or how it ended."""
    state = view.state
    if state == "queued" and view.position:
        return f"queued: number {view.position} in line, waiting for a free place"
    if state == "queued":
        return "starting: loading TensorFlow and MNIST"
    if state == "running":
        if not view.steps:
            return "preparing the model and data" + (f": {view.stage}" if view.stage else "")
        if view.stage:
            return f"epoch {view.epoch}/{view.epochs} · {view.stage}"
        eta = f"ETA {format_seconds(view.eta)}" if view.eta is not None else "ETA: measuring speed"
        return f"epoch {view.epoch}/{view.epochs} · batch {view.step}/{view.steps} · {eta}"
    if state == "completed":
        acc = view.test_accuracy
        early = view.stopped_early
        done = f"stopped early at epoch {early['epoch']} of {early['epochs']}, model kept" if early else "completed"
        done = f"{done} · test accuracy {acc:.2%}" if acc is not None else done
        return done if view.saved else f"{done} · no model kept"
    if state == "cancelled":
        return f"cancelled after {view.epochs_done} of {view.epochs} epochs; nothing was saved"
    return f"{state}: {view.error or 'no reason recorded'}"


def _saved(events: list[dict]) -> bool:
    """Whether the run's model is in the store: saved, and not discarded since."""
    kinds = [e.get("type") for e in events if e.get("type") in ("saved", "discarded")]
    return bool(kinds) and kinds[-1] == "saved"


def _stamp(run: RunDir) -> tuple | None:
    """What a run's view depends on, from two stats; None while it has no status."""
    out = []
    for name in ("status.json", "events.jsonl"):
        try:
            st = (run.path / name).stat()
        except FileNotFoundError:
            if name == "status.json":
                return None
            out.append((0, 0))  # a run cancelled in line never logged an event
            continue
        except OSError:
            return None
        out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


_SUMMARIES: dict[str, tuple[tuple, dict]] = {}


def summary(run: RunDir) -> dict:
    """run.summary(), kept for a finished run until its files change (the Train page's table of all runs)."""
    stamp, key = _stamp(run), str(run.path)
    cached = _SUMMARIES.get(key)
    if cached and stamp and cached[0] == stamp:
        return cached[1]
    out = run.summary()
    if stamp and out.get("state") not in ACTIVE:
        _SUMMARIES[key] = (stamp, out)
    return out


_FINISHED: dict[str, tuple[tuple, RunView]] = {}  # run path -> (files' stamp, view): a finished run changes no more


def run_view(run: RunDir, position: int | None = None, now: float | None = None) -> RunView:
    """Everything the dashboard draws for one run, read once from its directory.

    position: its place in the run queue (training/queue.positions()) while it waits.
    A finished run's view is kept in memory and read again only when its files
    change, so a page listing many finished runs does not parse them all on every visit.
    """
    stamp, key = _stamp(run), str(run.path)
    cached = _FINISHED.get(key)
    if cached and stamp and cached[0] == stamp:
        return cached[1]
    view = _read_view(run, position, time.time() if now is None else now)
    if stamp and not view.active:
        _FINISHED[key] = (stamp, view)
    return view


def _read_view(run: RunDir, position: int | None, now: float) -> RunView:
    status, events = run.status(), run.events()
    plan = next((e for e in events if e.get("type") == "plan"), {})
    try:
        config = run.config().to_dict()
    except (OSError, ValueError):
        config = {}
    last_batch = next((e for e in reversed(events) if e.get("type") == "batch"), {})
    epochs = epoch_series(events)
    state = status.get("state", "unknown")
    total, steps = plan.get("epochs") or config.get("epochs"), status.get("steps") or plan.get("steps_per_epoch") or 0
    eta = rate = None
    if state == "running" and total and steps:
        eta = eta_seconds(events, int(total) * int(steps), now)
        rate = throughput(events)
    return RunView(
        id=run.id, path=str(run.path), state=state, active=state in ACTIVE, position=position,
        model=config.get("model"), name=status.get("model_name") or config.get("name"), config=config,
        epochs=total, epoch=status.get("epoch") or last_batch.get("epoch") or 1,
        step=status.get("step") or last_batch.get("step") or 0, steps=steps,
        train_size=plan.get("train_size"), params=plan.get("params"),
        progress=min(1.0, max(0.0, float(status.get("progress") or 0.0))), eta=eta,
        images_per_s=rate["rate"] * int(config.get("batch_size") or 0) if rate else None,
        test_accuracy=status.get("test_accuracy"), error=status.get("error"),
        stopped_early=status.get("stopped_early"), stop_requested=run.stop_requested(),
        keep_requested=run.keep_requested(), started=status.get("started"), ended=status.get("ended"),
        stage=status.get("stage") if state == "running" else None,
        saved=_saved(events), epochs_done=len(epochs["epoch"]),
        batches=batch_series(events, plan.get("steps_per_epoch")), epoch_metrics=epochs)
