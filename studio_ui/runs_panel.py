"""Drawing training runs: live panels for active runs, summaries for finished ones."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from mnist_core.training import queue, runview, rundir

from mnist_core.models import zoo
from studio_ui import charts

POLL_S = 1.5
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
    """Runs in line or running, after starting any queued run that has a free place.

    The queue lives in the runs folder, so this poll is also what starts runs
    queued before a dashboard restart.
    """
    try:
        queue.dispatch()
    except (queue.QueueError, OSError) as exc:
        st.error(f"The run queue cannot start waiting runs: {exc}")
    return [r for r in list_runs() if r.status().get("state") in rundir.ACTIVE]


def _title(view: dict) -> str:
    icon = STATE_ICONS.get(view["state"], ":material/help:")
    name = view["name"] or "(auto-named)"
    return f"{icon} **{name}** · {view['model']} · run `{view['id']}`"


def live_panel(view: dict, charts_on: bool = True) -> None:
    """An active run: progress, live charts and a Cancel button."""
    with st.container(border=True, key=f"run-{view['id']}"):
        head, button = st.columns([5, 1], vertical_alignment="center")
        head.markdown(_title(view))
        run = rundir.RunDir(rundir.paths.runs_dir() / view["id"])
        if button.button("Cancel", key=f"cancel-{view['id']}", icon=":material/stop_circle:",
                         disabled=run.stop_requested(), width="stretch"):
            run.request_stop()
            queue.dispatch()  # a run still in line is cancelled at once
            st.toast(f"Asked run {view['id']} to stop at its next batch.")
        text = view["headline"] + (" · stopping..." if run.stop_requested() else "")
        st.progress(view["progress"], text=text)
        if not charts_on:
            return
        left, right = st.columns(2)
        if view["batches"]["x"]:
            left.plotly_chart(charts.batch_curves(view["batches"]), key=f"batch-{view['id']}")
            if view["config"].get("model") in KERAS_KINDS:
                left.caption("Keras reports each batch as the running mean over the epoch so far.")
        else:
            left.caption("Per-batch loss and accuracy appear here once the first batch is done.")
        if view["epoch_metrics"]["epoch"]:
            right.plotly_chart(charts.train_vs_val(view["epoch_metrics"]), key=f"epoch-{view['id']}")
        else:
            right.caption("Train and validation curves appear here after the first epoch.")


def finished_panel(view: dict, expanded: bool = False) -> None:
    """A finished run: result or reason, final curves, link to the model."""
    with st.expander(f"{_title(view)} · {view['headline']}", expanded=expanded):
        state = view["state"]
        if state == "completed":
            cols = st.columns(3)
            acc = view["test_accuracy"]
            cols[0].metric("Test accuracy", f"{acc:.2%}" if acc is not None else "?")
            cols[1].metric("Epochs", view["epochs_done"])
            cols[2].metric("Train images", f"{view['train_size']:,}" if view["train_size"] else "?")
            if view["saved"] and view["name"]:
                st.page_link("pages/inspect.py", label=f"Inspect model '{view['name']}'",
                             icon=":material/troubleshoot:", query_params={"model": view["name"]})
        elif state == "cancelled":
            st.warning("Cancelled at the user's request; the partly trained model was not saved.")
        else:
            st.error(f"This run is **{state}**: {view['error'] or 'no reason was recorded'}.")
            tail = rundir.RunDir(rundir.paths.runs_dir() / view["id"]).log_tail(30)
            if tail:
                st.caption("Last lines of the run's log:")
                st.code(tail, language="text")
        if view["epoch_metrics"]["epoch"]:
            st.plotly_chart(charts.train_vs_val(view["epoch_metrics"]), key=f"final-{view['id']}")


def runs_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per run from RunDir.summary() dicts."""
    def when(ts):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(ts))) if ts else None

    return pd.DataFrame([{
        "run": s["id"], "model": s["model"], "name": s["name"], "state": s["state"],
        "epochs": s["epochs"], "test accuracy": s["test_accuracy"], "error": s["error"],
        "started": when(s["started"]), "ended": when(s["ended"]),
    } for s in summaries])


def views(run_dirs: list[rundir.RunDir]) -> list[dict]:
    places = queue.positions() if any(r.status().get("state") == "queued" for r in run_dirs) else {}
    return [runview.run_view(r, places.get(r.id)) for r in run_dirs]
