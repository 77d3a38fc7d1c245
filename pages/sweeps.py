"""Sweeps: define a search space, run it on Ray (its own process), watch the trials live, keep the winners."""

import os

import pandas as pd
import streamlit as st

from mnist_core import tasks
from mnist_core.errors import UserError
from mnist_core.models import ensembles, store, zoo
from mnist_core.training import sweep_results, sweeps
from mnist_core.training.config import ConfigError, TrainConfig
from studio_ui import gate, promote_panel, routing, sweep_charts

routing.ensure_router()
gate.guard_page(__file__)

POLL_S = 2.0
MODES = ("fixed", "list", "range", "log range")
DEFAULTS = {"lr": ("log range", "0.001", "0.03"), "batch_size": ("list", "64,128,256", ""),
            "dropout": ("range", "0", "0.5"), "seed": ("fixed", "0", "")}

st.title("Sweeps")
promote_panel.show_flash()
st.caption("A sweep trains many versions of one recipe with Ray Tune and ranks them by validation accuracy "
           "(the test set never chooses). It runs as its own process, on this machine or on the Ray cluster "
           f"named by {'$MNIST_STUDIO_RAY_ADDRESS'}; sweeps started with `python -m mnist_core sweep` show here too.")


def knob_widget(knob: str, key: str) -> str | None:
    """One knob's row: fixed value, list, or range (linear or log); returns its --param text."""
    mode, a, b = DEFAULTS.get(knob, ("fixed", "", ""))
    c1, c2, c3 = st.columns([1, 2, 2])
    mode = c1.selectbox(knob, MODES, index=MODES.index(mode), key=f"{key}_mode")
    if mode in ("fixed", "list"):
        text = c2.text_input("value" if mode == "fixed" else "values (comma-separated)", a, key=f"{key}_{mode}")
        return f"{knob}={text.strip()}"
    low = c2.text_input("low", a if mode == DEFAULTS.get(knob, ("",))[0] else "", key=f"{key}_{mode}_low")
    high = c3.text_input("high", b if mode == DEFAULTS.get(knob, ("",))[0] else "", key=f"{key}_{mode}_high")
    return f"{knob}={'log:' if mode == 'log range' else ''}{low.strip()}:{high.strip()}"


def sweep_form() -> tuple[sweeps.SweepConfig, str | None] | None:
    kinds = list(zoo.MODELS)
    c1, c2, c3 = st.columns(3)
    model = c1.selectbox("Model", kinds, index=kinds.index("fast"), key="sw_model")
    recipe = TrainConfig.for_model(model)
    epochs = c2.number_input("Epochs per trial", 1, 1000, recipe.epochs, key=f"sw_{model}_epochs")
    subset = c3.number_input("Training images (0 = all)", 0, 55000, 0, step=1000, key="sw_subset")
    chosen = st.multiselect("Knobs to search", sweeps.knobs(), default=["lr", "batch_size"], key="sw_knobs")
    params = [knob_widget(k, f"sw_{k}") for k in chosen]
    c1, c2, c3, c4 = st.columns(4)
    search = c1.selectbox("Search", sweeps.SEARCHES, index=1, key="sw_search",
                          help="grid: every combination of lists and integer ranges; random; tpe: Optuna's TPE.")
    trials = c2.number_input("Trials", 1, 1000, 8, key="sw_trials", help="random and tpe (grid runs every point)")
    concurrent = c3.number_input("Trials at once", 1, 64, min(2, os.cpu_count() or 1), key="sw_concurrent")
    keep = c4.number_input("Keep best (saved models)", 0, 100, 3, key="sw_keep")
    c1, c2 = st.columns(2)
    asha = c1.toggle("Stop weak trials early (ASHA)", True, key="sw_asha")
    address = c2.text_input("Ray cluster address (empty: this machine)", os.environ.get("MNIST_STUDIO_RAY_ADDRESS", ""),
                            key="sw_address").strip() or None
    if not st.button("Start sweep", type="primary", icon=":material/play_arrow:", key="sw_start"):
        return None
    try:
        base = TrainConfig.for_model(model, epochs=int(epochs), train_subset=int(subset) or None)
        space = dict(sweeps.parse_param(p) for p in params)
        config = sweeps.SweepConfig(base, space, search=search, trials=int(trials), concurrent=int(concurrent),
                                    asha=asha, keep=int(keep)).validate()
    except ConfigError as exc:
        st.error(f"Cannot start this sweep: {exc}")
        return None
    return config, address


with st.container(border=True):
    st.subheader("New sweep")
    form = sweep_form()
    if form:
        try:
            config, address = form
            run = sweeps.launch(config, address=address)
        except (UserError, OSError) as exc:  # a bad config, a taken name, no access; or the OS refusing a process
            st.error(f"Cannot start the sweep process: {exc}")
        else:
            st.session_state["sw_selected"] = run.id
            st.success(f"Started sweep `{run.id}`.")

all_sweeps = sweeps.list_sweeps()
if not all_sweeps:
    st.info("No sweeps yet. Define one above, or run `python -m mnist_core sweep --model fast --param "
            "lr=log:1e-3:3e-2 --trials 8 --asha`.")
    st.stop()

ids = [r.id for r in all_sweeps]
selected = st.session_state.get("sw_selected")
sweep_id = st.selectbox("Sweep", ids, index=ids.index(selected) if selected in ids else 0, key="sw_pick")


def trials_table(view: dict) -> pd.DataFrame:
    knobs = list((view["config"].get("space") or {}).keys())
    rows = [{"trial": t["label"], "state": t["state"], **{k: t["params"].get(k) for k in knobs},
             "epoch": t["epoch"], "val accuracy": t["last_val_accuracy"], "stopped early": t["stopped_early"],
             "model": t["model"] or "", "error": t["error"] or ""} for t in view["trials"]]
    return pd.DataFrame(rows)


def draw(view: dict) -> None:
    c = view["counts"]
    st.markdown(f"**{view['headline']}**")
    st.progress(c["done"] / max(1, c["total"]), text=f"{c['done']} of {c['total']} trials done")
    if view["active"] and st.button("Cancel sweep", icon=":material/stop:", key=f"sw_cancel_{view['id']}"):
        sweeps.get_sweep(view["id"]).request_stop()
        st.toast("Asked the sweep to stop; every trial ends within seconds.")
    if not view["trials"]:
        st.caption("Waiting for the first trial: Ray, TensorFlow and MNIST are starting.")
        return
    st.dataframe(trials_table(view), hide_index=True, key=f"sw_table_{view['id']}",
                 column_config={"val accuracy": st.column_config.NumberColumn(format="percent")})
    space = view["config"].get("space") or {}
    knobs = [k for k, spec in space.items() if spec.get("kind") != "fixed"]
    epochs = (view["config"].get("base") or {}).get("epochs")
    if not sweep_results.rank(view["trials"]):
        st.info("The charts appear when the first trial reports its validation accuracy, after its first epoch.",
                icon=":material/hourglass_top:")
        return
    left, right = st.columns(2)
    left.plotly_chart(sweep_charts.parallel_coordinates(view["trials"], knobs), key=f"sw_par_{view['id']}")
    right.plotly_chart(sweep_charts.epoch_curves(view["trials"], epochs), key=f"sw_curves_{view['id']}")
    cols = st.columns(max(1, min(3, len(knobs))))
    for i, knob in enumerate(knobs):
        cols[i % len(cols)].plotly_chart(sweep_charts.knob_scatter(view["trials"], knob, bool(space[knob].get("log"))),
                                         key=f"sw_scatter_{view['id']}_{knob}")


@st.fragment(run_every=POLL_S)
def live(sweep_id: str) -> None:
    view = sweep_results.sweep_view(sweeps.get_sweep(sweep_id))
    draw(view)
    if not view["active"] and st.session_state.get("sw_was_active") == sweep_id:
        st.session_state["sw_was_active"] = None
        st.rerun()  # it just ended: redraw the page with the save, promote and ensemble buttons


def actions(view: dict) -> None:
    """Keep the winners: copy the best under a name, promote it (compared and confirmed), or ensemble the top K."""
    saved = [t["model"] for t in sweep_results.rank(view["trials"]) if t["model"] and t["model"] in store.list_names()]
    if not saved:
        st.caption("No saved models from this sweep (set Keep best above 0 to keep the best trials).")
        return
    st.subheader("Keep the winners")
    st.caption(f"Saved trials, best first by validation accuracy: {', '.join(saved)}")
    c1, c3 = st.columns(2)
    name = c1.text_input("Save the best trial as", f"{view['model']}-sweep-best", key="sw_save_name").strip()
    replace = bool(name) and name in store.list_names() and name not in store.protected_names() and c1.checkbox(
        f"Replace the saved model '{name}'", key="sw_save_replace")
    if c1.button("Save best", key="sw_save"):
        try:
            store.check_new_name(name, replace=replace)
            store.copy(saved[0], name, {"trained_as": saved[0]})
            c1.success(f"Saved '{saved[0]}' as '{name}'.")
        except UserError as exc:
            c1.error(str(exc))
    k = c3.number_input("Ensemble of the top K", 2, max(2, len(saved)), min(3, max(2, len(saved))), key="sw_k")
    ens = c3.text_input("Ensemble name", f"{view['model']}-sweep-ensemble", key="sw_ens_name").strip()
    if c3.button("Build ensemble", key="sw_ensemble", disabled=len(saved) < 2):
        try:
            with st.spinner("Evaluating the ensemble on the test set"):
                ensembles.create(ens, saved[:int(k)])
            c3.success(f"Saved ensemble '{ens}' of {', '.join(saved[:int(k)])}.")
        except UserError as exc:
            c3.error(str(exc))
    target = tasks.SHIPPED.get((view["config"].get("base") or {}).get("task") or "digits", "default")
    promote_panel.promote_box(saved, target, key="sw_promote",
                              label=f"**Promote the best trial to `{target}`**, the model every page reads with.")


view = sweep_results.sweep_view(sweeps.get_sweep(sweep_id))
if view["active"]:
    st.session_state["sw_was_active"] = sweep_id
    live(sweep_id)
else:
    draw(view)
    actions(view)
