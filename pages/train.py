"""Train: configure a run, launch it as its own process, watch every run live."""

import time

import streamlit as st

from mnist_core.training import config as config_mod
from mnist_core.training import queue, rundir
from mnist_core.models import store, zoo
from mnist_core.errors import UserError
from mnist_core.training.config import TrainConfig
from studio_ui import gate, routing, runs_panel

routing.ensure_router()
gate.guard_page(__file__)  # visitors' navigation has no Train page; this holds on any other way in

RECENT_FINISHED = 8
MAX_LIVE_CHARTS = 4  # beyond this many simultaneous runs, show progress bars only

st.title("Train")
st.caption("Each run is a separate process that writes its progress to runs/<id>/. You can leave this page, "
           "reload it or open it in another tab: the runs go on and show up again, including runs "
           "started with `python -m mnist_core train`.")


def config_form() -> tuple[TrainConfig, bool] | None:
    """The hyperparameter widgets; returns (config, replace an existing model of its name) when Start is pressed."""
    task = st.segmented_control("Task", list(config_mod.TASKS), default="digits", key="tr_task",
                                help="digits: MNIST. shapes: hand-drawn shapes generated with fixed seeds "
                                     "(ellipse, rectangle, triangle, ...).") or "digits"
    kinds = list(zoo.MODELS)
    kind = st.selectbox("Model", kinds, index=kinds.index("lenet5"), key="tr_kind",
                        format_func=lambda k: f"{k} ({zoo.MODELS[k].backend})")
    spec = zoo.MODELS[kind]
    st.caption(spec.description)
    recipe = TrainConfig.for_model(kind)
    k = f"tr_{kind}_"  # per-kind keys, so switching kind restores that kind's recipe defaults

    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", 1, 1000, recipe.epochs, key=k + "epochs")
    sizes = sorted({16, 32, 64, 128, 256, 512, 1024, int(recipe.batch_size)})
    batch_size = c2.select_slider("Batch size", sizes, value=int(recipe.batch_size), key=k + "batch")
    lr = c3.number_input("Learning rate", 1e-5, 10.0, float(recipe.lr), format="%.4f", step=1e-4, key=k + "lr")
    subset = c4.number_input("Training images (0 = all 55,000)", 0, 55000,
                             recipe.train_subset or 0, step=1000, key=k + "subset",
                             help="Train on a random subset for a quick experiment.")
    c1, c2, c3, c4 = st.columns(4)
    optimizers = list(dict.fromkeys([*config_mod.OPTIMIZERS, recipe.optimizer]))
    optimizer = c1.selectbox("Optimizer", optimizers, index=optimizers.index(recipe.optimizer), key=k + "opt")
    schedules = list(dict.fromkeys([*config_mod.SCHEDULES, recipe.schedule]))
    schedule = c2.selectbox("Learning-rate schedule", schedules, index=schedules.index(recipe.schedule),
                            key=k + "schedule")
    seed = c3.number_input("Seed", 0, 2**31 - 1, recipe.seed, key=k + "seed")
    name = c4.text_input("Model name", "", key=k + "name", placeholder=f"{kind}-<date>-<time>",
                         help="Lowercase letters, digits, '-' and '_'. Empty: named by kind and time.").strip()

    dropout, batch_norm, augment = recipe.dropout, recipe.batch_norm, recipe.augment  # unless offered below
    rotation, shift, zoom = recipe.rotation_deg, recipe.shift, recipe.zoom
    if spec.options:
        c1, c2, c3 = st.columns(3)
        if "dropout" in spec.options and c1.toggle("Set dropout", key=k + "dropout_on",
                                                   help="Off: the model's own default dropout."):
            dropout = c1.slider("Dropout", 0.0, 0.8, recipe.dropout if recipe.dropout is not None else 0.25, 0.05,
                                key=k + "dropout")
        if "batch_norm" in spec.options:
            batch_norm = c2.toggle("Batch normalization", recipe.batch_norm, key=k + "bn")
        if "augment" in spec.options:
            augment = c3.toggle("Augment (rotate, shift, zoom)", recipe.augment, key=k + "augment")
        if augment:
            a1, a2, a3 = st.columns(3)
            rotation = a1.slider("Rotation (degrees)", 0, 45, int(recipe.rotation_deg), key=k + "rot")
            shift = a2.slider("Shift", 0.0, 0.3, float(recipe.shift), 0.01, key=k + "shift")
            zoom = a3.slider("Zoom", 0.0, 0.3, float(recipe.zoom), 0.01, key=k + "zoom")
    else:
        st.caption("This model has no dropout, batch-norm or augmentation options.")

    # On by default for a run on all the data; a quick run on a subset is an experiment, off by default.
    keep = st.checkbox("Keep the model when the run ends", not subset, key=k + f"keep{int(bool(subset))}",
                       help="Off: the run leaves its curves and test accuracy here, and adds no model to the "
                            "Models page, the leaderboard or the model lists. A kept model can still be "
                            "discarded from its finished run below.")
    replace = False
    if keep and name and name in store.list_names() and name not in store.protected_names():
        replace = st.checkbox(f"Replace the saved model '{name}' when this run finishes", key=k + "replace")
    if not st.button("Start training", type="primary", icon=":material/play_arrow:", key="tr_start"):
        return None
    config = TrainConfig.for_model(kind, epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
                                   optimizer=optimizer, schedule=schedule, seed=int(seed), name=name or None,
                                   dropout=dropout, batch_norm=batch_norm, augment=augment,
                                   rotation_deg=float(rotation), shift=float(shift), zoom=float(zoom),
                                   train_subset=int(subset) or None, task=task, keep_model=keep)
    return config, replace


with st.container(border=True):
    st.subheader("New run")
    form = config_form()
    if form is not None:
        config, replace = form
        try:
            run = queue.launch(config, replace=replace)
        except UserError as exc:  # a bad value, a taken name, no access, a full queue
            st.error(f"Cannot start this run: {exc}")
        except OSError as exc:
            st.error(f"Cannot start the training process: {exc}")
        else:
            st.session_state["tr_last_run"] = run.id
            place = queue.positions().get(run.id)
            st.success(f"Run `{run.id}` is number {place} in line; it starts when a place is free." if place
                       else f"Started run `{run.id}`. It appears below in a moment.")


@st.fragment(run_every=runs_panel.POLL_S)
def live_runs() -> None:
    active = runs_panel.active_runs()
    ids = {r.id for r in active}
    previous = st.session_state.get("tr_live_ids")
    st.session_state["tr_live_ids"] = ids
    if previous is not None and previous - ids:
        st.rerun()  # a run ended: redraw the whole page so it moves to the finished list
    if not active:
        st.caption("No runs in progress.")
        return
    smoothing = st.session_state.get("tr_smoothing", 0.6)
    for view in runs_panel.views(active):
        runs_panel.live_panel(view, charts_on=len(active) <= MAX_LIVE_CHARTS, smoothing=smoothing)


st.subheader("Running")
try:
    st.caption(f"At most {queue.max_runs()} trainings run at once (set {queue.ENV} to change it); "
               "later runs wait in line, in the order they were started, here or with `python -m mnist_core train`.")
except queue.QueueError as exc:
    st.error(str(exc))
smoothing = runs_panel.smoothing_control()
live_runs()

# Finished runs' summaries and views are read once and kept until their files change (runview),
# so a page with a hundred finished runs costs a few stats per run, not a hundred event logs.
all_runs = runs_panel.list_runs()
summaries = runs_panel.summaries(all_runs)
finished = [r for r, s in zip(all_runs, summaries) if s.get("state") not in rundir.ACTIVE]
finished_summaries = [s for s in summaries if s.get("state") not in rundir.ACTIVE]
st.subheader("Finished")
if not finished:
    st.caption("Finished, failed and cancelled runs will be listed here.")
for i, view in enumerate(runs_panel.views(finished[:RECENT_FINISHED])):
    recent = view.ended is not None and time.time() - float(view.ended) < 120
    runs_panel.finished_panel(view, expanded=(i == 0 and recent) or view.id == st.session_state.get("tr_last_run"),
                              smoothing=smoothing)
if finished:
    every_run = st.expander(f"All {len(finished)} finished runs", key="tr_all_finished", on_change="rerun")
    if every_run.open:
        with every_run:
            st.dataframe(runs_panel.runs_table(finished_summaries), hide_index=True, column_config={
                "test accuracy": st.column_config.NumberColumn(format="percent")})
