"""Drawing training runs: live panels for active runs, summaries for finished ones."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from mnist_core import access
from mnist_core.errors import UserError
from mnist_core.models import store, zoo
from mnist_core.training import loop, queue, runview, rundir
from studio_ui import charts

POLL_S = 1.5
MAX_POINTS = 1500  # per line on a chart
KERAS_KINDS = {name for name, spec in zoo.MODELS.items() if spec.backend == "keras"}
STATE_ICONS = {"queued": ":material/hourglass_top:", "running": ":material/sync:",
               "completed": ":material/check_circle:", "cancelled": ":material/block:",
               "failed": ":material/error:", "interrupted": ":material/warning:", "broken": ":material/error:"}


def list_runs() -> list[rundir.RunDir]:
    try:
        return rundir.list_runs()
    except OSError as exc:
        st.error(f"Cannot read the runs folder: {exc}")
        return []


def active_runs() -> list[rundir.RunDir]:
    """Runs in line or running, oldest first. Only reads: starting queued runs is the dispatcher's job
    (training/queue.py), never a side effect of a page's poll.

    The order is by creation and never changes while they run, so a button
    stays under the run it belongs to.
    """
    active = [r for r in list_runs() if r.status().get("state") in rundir.ACTIVE]
    return list(reversed(active))  # list_runs is newest first, by creation


def _title(view: runview.RunView) -> str:
    icon = STATE_ICONS.get(view.state, ":material/help:")
    return f"{icon} **{view.name or '(auto-named)'}** · {view.model} · run `{view.id}`"


def smoothing_control(key: str = "tr_smoothing") -> float:
    """TensorBoard's smoothing slider for the per-batch curves (the faint line is the raw one)."""
    return st.slider("Smoothing of the per-batch curves", 0.0, 0.99, 0.6, 0.01, key=key,
                     help="An exponential moving average, as in TensorBoard: 0 shows the raw values, "
                          "0.99 smooths most. The raw curve stays faint behind.")


def _thin(series: dict, limit: int = MAX_POINTS) -> dict:
    """At most `limit` points a line: a long run logs thousands and the browser would draw every one."""
    n = len(series["x"])
    if n <= limit:
        return series
    step = -(-n // limit)
    return {k: v[::step] if isinstance(v, list) else v for k, v in series.items()}


def step_axis(batches: dict, steps_per_epoch: int) -> tuple[list[float], list[float]]:
    """(x, epoch starts): the global step of every point, and the step where each later epoch begins.

    Steps keep points in order where fractional epochs stacked (a fine-tune whose epochs are a few
    batches long) or ran backwards between runs of different epoch lengths.
    """
    steps = [float(s) for s in batches.get("global_step") or []]
    if len(steps) != len(batches["x"]) or not any(steps):  # events written before global_step was logged
        return list(batches["x"]), []
    per, last = int(steps_per_epoch or 0), max(steps)
    return steps, [float(per * k) for k in range(1, int(last // per) + 1) if per * k < last] if per > 0 else []


def batch_charts(view: runview.RunView, smoothing: float, key: str) -> None:
    """Per-batch loss and accuracy, one chart each, two a row; the axis fits the latest part of the run."""
    batches = view.batches
    if not batches["x"]:
        st.caption("Per-batch loss and accuracy appear here once the first batch is done.")
        return
    x, starts = step_axis(batches, view.steps)
    left, right = st.columns(2)
    for col, metric, percent in ((left, "loss", False), (right, "accuracy", True)):
        raw = batches[metric]
        smooth = runview.smooth(raw, smoothing) if smoothing else raw
        thin = _thin({"x": x, "raw": raw, "smooth": smooth})
        col.plotly_chart(charts.curve(thin["x"], {f"{metric} per batch": thin["smooth"]}, f"{metric} per batch",
                                      percent=percent, y_range=charts.fitted_range(smooth, x, percent=percent),
                                      raw={f"{metric} per batch": thin["raw"]} if smoothing else None,
                                      x_title="training step", epoch_starts=starts),
                         key=f"{key}-batch-{metric}")
    if view.config.get("model") in KERAS_KINDS:
        st.caption("Keras reports each batch as the running mean over the epoch so far. The axis fits the "
                   "latest 70% of the run; earlier points run off the chart (drag to zoom, double-click to reset).")


def epoch_charts(view: runview.RunView, key: str) -> None:
    """Train and validation loss and accuracy per epoch, one chart each, two a row."""
    epochs = view.epoch_metrics
    if not epochs["epoch"]:
        st.caption("Train and validation curves appear here after the first epoch.")
        return
    left, right = st.columns(2)
    for col, metric, percent in ((left, "loss", False), (right, "accuracy", True)):
        lines = {"train": epochs[metric], "validation": epochs["val_" + metric]}
        lines = {k: v for k, v in lines.items() if any(not math.isnan(x) for x in v)}
        col.plotly_chart(charts.curve(epochs["epoch"], lines, f"{metric} per epoch", percent=percent,
                                      y_range=charts.fitted_range([x for v in lines.values() for x in v],
                                                                  percent=percent, recent=1.0)
                                      if len(epochs["epoch"]) > 2 else None,
                                      dashes={"validation": "dash"}), key=f"{key}-epoch-{metric}")


def _stop(path: str, keep: bool) -> None:
    """A button's on_click: runs before the rerun, so the panel drawn next already shows the request."""
    run = rundir.RunDir(Path(path))
    try:
        run.request_stop(keep=keep)
        if not keep:
            queue.dispatch(run.path.parent)  # a run still in line is cancelled at once
    except (access.AccessDenied, queue.QueueError, OSError) as exc:
        st.toast(f"Not stopped: {exc}", icon=":material/error:")
        return
    st.toast(f"Run {run.id} stops at its next batch and saves its model." if run.keep_requested() else
             f"Run {run.id} is cancelled at its next batch; nothing is saved.")


def stop_buttons(view: runview.RunView, keep_col, cancel_col) -> None:
    """Stop and keep (a running run) and Cancel; both act at the next batch."""
    stopping = view.stop_requested or view.keep_requested
    keep_col.button("Stop and keep", key=f"keep-{view.id}", icon=":material/save:",
                    disabled=stopping or view.state != "running", width="stretch", on_click=_stop,
                    args=(view.path, True), help="Stop at the next batch and save the model as it stands.")
    cancel_col.button("Cancel", key=f"cancel-{view.id}", icon=":material/stop_circle:",
                      disabled=view.stop_requested, width="stretch", on_click=_stop, args=(view.path, False),
                      help="Stop at the next batch; nothing is saved.")


def live_panel(view: runview.RunView, charts_on: bool = True, smoothing: float = 0.6) -> None:
    """An active run: progress, live charts, Cancel and Stop and keep."""
    with st.container(border=True, key=f"run-{view.id}"):
        head, keep_col, cancel_col = st.columns([4, 1, 1], vertical_alignment="center")
        head.markdown(_title(view))
        stop_buttons(view, keep_col, cancel_col)
        text = view.headline
        if view.images_per_s:
            text += f" · {view.images_per_s:,.0f} images/s"
        if view.stop_requested:
            text += " · cancelling at the next batch..."
        elif view.keep_requested:
            text += " · stopping at the next batch, the model will be saved"
        st.progress(view.progress, text=text)
        if charts_on:
            batch_charts(view, smoothing, f"live-{view.id}")
            epoch_charts(view, f"live-{view.id}")


def finished_panel(view: runview.RunView, expanded: bool = False, smoothing: float = 0.6) -> None:
    """A finished run: result or reason, its batch and epoch curves (on demand), link to the model."""
    # A lazy expander: a closed one sends and draws only its title, so a page of many runs stays light.
    # Its first state is kept for the session: a changed `expanded` would make it a new widget, closed.
    expanded = st.session_state.setdefault(f"run-first-open-{view.id}", expanded)
    panel = st.expander(f"{_title(view)} · {view.headline}", expanded=expanded, key=f"run-{view.id}",
                        on_change="rerun")
    if not panel.open:
        return
    with panel:
        _outcome(view)
        if not (view.batches["x"] or view.epoch_metrics["epoch"]):
            return
        # Drawn on demand: a page listing many finished runs must not build four charts for each.
        if st.toggle("Show its curves", value=expanded, key=f"curves-{view.id}"):
            batch_charts(view, smoothing, f"final-{view.id}")
            epoch_charts(view, f"final-{view.id}")


def _discard_box(view: runview.RunView, where) -> None:
    """Discard an experiment's saved model (two clicks: the first only asks)."""
    if view.name in store.protected_names() or not access.is_editor():
        return
    with where.popover("Discard the model", icon=":material/delete:"):
        st.caption(f"Delete model '{view.name}' from the store. This run keeps its curves and figures.")
        if st.button("Discard it", type="primary", key=f"discard-{view.id}"):
            try:
                loop.discard(rundir.RunDir(Path(view.path)))
            except UserError as exc:
                st.error(f"Not discarded: {exc}")
                return
            st.toast(f"Discarded model '{view.name}'.")
            st.rerun(scope="app")


def _outcome(view: runview.RunView) -> None:
    """How a finished run ended: its figures, or why it did not complete (with the log's last lines)."""
    if view.state == "completed":
        cols = st.columns(3)
        acc, early = view.test_accuracy, view.stopped_early
        cols[0].metric("Test accuracy", f"{acc:.2%}" if acc is not None else "?")
        cols[1].metric("Epochs", f"{early['epoch']} of {early['epochs']}" if early else view.epochs_done)
        cols[2].metric("Train images", f"{view.train_size:,}" if view.train_size else "?")
        if early:
            st.info(f"Stopped early at epoch {early['epoch']} of {early['epochs']} at the user's request; "
                    "the model was saved as it stood.")
        if view.saved and view.name:
            left, right = st.columns([3, 1])
            left.page_link("pages/inspect.py", label=f"Inspect model '{view.name}'",
                           icon=":material/troubleshoot:", query_params={"model": view.name})
            _discard_box(view, right)
        elif not view.saved:
            st.caption("No model was kept: this run's curves and test accuracy stay here, and no model list "
                       "shows it.")
    elif view.state == "cancelled":
        st.warning("Cancelled at the user's request; the partly trained model was not saved.")
    else:
        st.error(f"This run is **{view.state}**: {view.error or 'no reason was recorded'}.")
        tail = rundir.RunDir(Path(view.path)).log_tail(30)
        if tail:
            st.caption("Last lines of the run's log:")
            st.code(tail, language="text")


def runs_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per run from RunDir.summary() dicts."""
    def when(ts):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(ts))) if ts else None

    return pd.DataFrame([{
        "run": s["id"], "model": s["model"], "name": s["name"], "state": s["state"],
        "epochs": s["epochs"], "test accuracy": s["test_accuracy"], "error": s["error"],
        "started": when(s["started"]), "ended": when(s["ended"]),
    } for s in summaries])


def summaries(run_dirs: list[rundir.RunDir]) -> list[dict]:
    """RunDir.summary() of each run; a finished run's is read once and kept (runview.summary)."""
    return [runview.summary(r) for r in run_dirs]


def views(run_dirs: list[rundir.RunDir]) -> list[runview.RunView]:
    places = queue.positions() if any(r.status().get("state") == "queued" for r in run_dirs) else {}
    return [runview.run_view(r, places.get(r.id)) for r in run_dirs]
