"""Models: compare saved models, overlay their learning curves, download or delete them, import one from elsewhere."""

import json

import pandas as pd
import streamlit as st

from mnist_core.analysis import leaderboard
from mnist_core.analysis import report as html_report

from mnist_core import tasks as tasks_mod
from mnist_core.errors import UserError
from mnist_core.models import convention, importing, loading, store
from studio_ui import charts, exports, gate, import_panel, promote_panel, realworld_view, routing, state

routing.ensure_router()

st.title("Models")
task = state.task_switch("models_task")
flash = st.session_state.pop("models_flash", None)
if flash:
    st.success(flash)
promote_panel.show_flash()
import_panel.show_flash()
import_panel.import_box(task)

try:
    cards = store.list_models()
except OSError as exc:
    st.error(f"Cannot read the model store: {exc}")
    st.stop()
if not cards:
    st.info("The model store is empty. Train a model on the Train page and it will be listed here.")
    if gate.can_open("pages/train.py"):
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

everything = leaderboard.rows(cards)
of_task = tasks_mod.tasks_by_name(cards)
rows = leaderboard.of_task(everything, of_task, task)  # accuracies of different tasks do not compare
if len(rows) < len(everything):
    st.caption(f"The {task} models; {len(everything) - len(rows)} model(s) of another task are listed under "
               "that task.")
if not rows:
    st.info(f"No saved {task} model yet. Train one on the Train page (task {task.title()}).")
    st.stop()


def list_filter(rows: list[dict]) -> list[dict]:
    """Hide experiments (sweep trials, fine-tunes, ...) and weak models; the shipped ones always stay."""
    with st.popover("Filter the list", icon=":material/filter_list:"):
        origins = st.multiselect("Show models that are", leaderboard.ORIGINS, default=leaderboard.ORIGINS,
                                 key="models_origins")
        at_least = st.slider("Hide those below this test accuracy (%)", 0.0, 100.0, 0.0, 0.5, key="models_at_least",
                             help="The shipped models stay listed: every page reads with them.")
    kept = leaderboard.chosen(rows, origins, at_least / 100)
    if len(kept) < len(rows):
        st.caption(f"{len(rows) - len(kept)} of {len(rows)} models hidden by the filter.")
    return kept


rows = list_filter(rows)
table = pd.DataFrame(rows)
broken = table[table["error"].notna()] if "error" in table else table.iloc[0:0]
good = table[table["error"].isna()] if "error" in table else table
good_rows = [r for r in rows if not r.get("error")]
by_name = {c["name"]: c for c in cards}
# The columns that fit the page's width; the rest are one click away.
SHORT = ("name", "origin", "kind", "test_accuracy", "params", "train_seconds", "epochs")
COLUMN_CONFIG = {
    "name": st.column_config.TextColumn("name", width="medium"),
    "kind": st.column_config.TextColumn("kind", width="small"),
    "origin": st.column_config.TextColumn("origin", width="small", help="shipped, trained, fine-tuned, sweep "
                                          "trial, ensemble or imported: the filter above hides any of them."),
    "test_accuracy": st.column_config.NumberColumn("test acc.", format="%.2f%%", width="small"),
    "test_loss": st.column_config.NumberColumn("test loss", format="%.4f"),
    "params": st.column_config.NumberColumn("params", format="compact", width="small"),
    "train_seconds": st.column_config.NumberColumn("train s", format="%.0f", width="small"),
    "inference_ms": st.column_config.NumberColumn("ms/img", format="%.2f", width="small",
                                                  help="Median time to classify one image."),
    "epochs": st.column_config.TextColumn("epochs", width="small"),
    "train_size": st.column_config.NumberColumn("train images", format="localized"),
}


# Lazy tabs and expanders: only what is open runs and is drawn, so the page opens without plotly's
# script (about a second per page in the browser here); the curves pay for it when their tab is opened.
table_tab, curves_tab, real_tab = st.tabs(["Table", "Learning curves", "Real world"], key="models_view",
                                          on_change="rerun")
if table_tab.open:
    with table_tab:
        st.dataframe(leaderboard.display(good_rows, SHORT), hide_index=True, key="models_table", width="stretch",
                     column_config=COLUMN_CONFIG)
        notes = [f"**{n}**: {by_name[n]['stopped_early']['note']}" for n in good["name"]
                 if isinstance(by_name.get(n, {}).get("stopped_early"), dict)]
        if notes:
            st.caption("Stopped early and kept: " + "; ".join(notes) + ".")
        everything_else = st.expander("All columns", key="models_all_columns", on_change="rerun")
        if everything_else.open:
            with everything_else:
                st.dataframe(leaderboard.display(good_rows, leaderboard.COLUMNS), hide_index=True, width="stretch",
                             column_config=COLUMN_CONFIG)
for _, bad in broken.iterrows():
    st.warning(f"Model '{bad['name']}' cannot be read: {bad['error']}. Delete it below.")


def _has(curve: dict, metric: str) -> bool:
    return any(v == v for v in curve.get(metric) or [])  # NaN != NaN: a model without that metric


def learning_curves() -> None:
    names = list(good["name"])
    chosen = st.multiselect("Models to compare", names, default=names[:3], key="models_compare")
    if not chosen:
        st.caption("Choose one or more models to overlay their per-epoch curves.")
        return
    series = {n: leaderboard.curves(by_name[n]) for n in chosen}
    c1, c2 = st.columns([1, 2])
    split = c1.segmented_control("Curves", ["validation", "train"], default="validation", key="models_split") \
        or "validation"
    scale = c2.segmented_control("Scale", charts.SCALES, default=charts.SCALES[0], key="models_scale") \
        or charts.SCALES[0]
    prefix = "val_" if split == "validation" else ""
    curves = {n: c for n, c in series.items() if c["epoch"] and _has(c, prefix + "accuracy")}
    blank = [n for n, c in series.items() if c["epoch"] and n not in curves]
    # No epochs (an ensemble averages trained models): a level line at its final test accuracy.
    finals = {n: by_name[n]["test_accuracy"] for n, c in series.items()
              if not c["epoch"] and by_name[n].get("test_accuracy") is not None}
    left, right = st.columns(2)
    left.plotly_chart(charts.comparison(curves, prefix + "accuracy", f"{split} accuracy by epoch", scale, finals),
                      key="models_acc_chart")
    right.plotly_chart(charts.metric_lines(curves, "epoch", prefix + "loss", f"{split} loss"), key="models_loss_chart")
    if finals:
        st.caption(f"Dotted: {', '.join(finals)} — " + ("an ensemble" if len(finals) == 1 else "ensembles")
                   + " averaging trained models, with no epochs of its own, drawn at its final **test** "
                   "accuracy for reference (the curves are per-epoch " + split + " accuracy).")
    if blank:
        st.caption(f"No {split} curve for {', '.join(blank)}: "
                   + ("trained on all 60,000 training images, so nothing was held out to validate on."
                      if split == "validation" else "its card keeps no per-epoch training figures."))
    if scale == charts.SCALES[0]:
        st.caption("Error rate = 1 - accuracy, on a log scale: 0.31% and 0.26% lie as far apart as 31% and 26%, "
                   "so the first epochs no longer flatten the rest.")


if curves_tab.open:
    with curves_tab:
        learning_curves()
if real_tab.open:
    with real_tab:
        realworld_view.summary([by_name[n] for n in good["name"]], task)
shown_cards = [c for c in cards if c.get("name") in set(table["name"])]
exports.report_button("models_report", [(c.get("name"), c.get("created"), c.get("exports")) for c in shown_cards],
                      lambda: html_report.comparison_html(shown_cards),
                      "models-report.html", "comparison report (HTML)")


def _by_class(card: dict) -> None:
    """The card's test confusion matrix and per-class metrics, classes by name."""
    results = leaderboard.by_class(card)
    if results is None:
        return
    section = st.expander(f"Test results per {results['noun']}: {', '.join(results['names'])}",
                          key="models_by_class", on_change="rerun")
    if not section.open:
        return
    with section:
        names = results["names"]
        st.caption(f"Confusion matrix: rows true {results['noun']}, columns predicted.")
        st.dataframe(pd.DataFrame(results["confusion"], index=names, columns=names), key="models_confusion")
        st.dataframe(pd.DataFrame(results["per_class"]), hide_index=True, key="models_per_class", column_config={
            m: st.column_config.NumberColumn(format="%.3f") for m in ("precision", "recall", "f1")})


st.subheader("One model")
all_names = [r["name"] for r in rows]
if st.session_state.get("models_pick") not in all_names:
    st.session_state.pop("models_pick", None)  # a model of the other task, or deleted
active = state.active_name()
name = st.selectbox("Model", all_names, index=all_names.index(active) if active in all_names else 0,
                    key="models_pick")
try:
    card = store.read_card(name)
except store.StoreError as exc:
    card = None
    st.warning(str(exc))

if card:
    card_section = st.expander("Model card", key="models_card", on_change="rerun")
    if card_section.open:
        with card_section:
            st.json(card, expanded=1)
    _by_class(card)
    realworld_view.model_section(name)
    c1, c2 = st.columns(2)
    try:
        model_file = store.model_file(name)
    except store.StoreError:  # a card without a known backend
        model_file = None
    if model_file and model_file.is_file():
        c1.download_button("Download model file", model_file.read_bytes(), file_name=f"{name}-{model_file.name}",
                           mime="application/octet-stream", icon=":material/download:", key="dl_model")
    elif card.get("kind") == "ensemble":
        c1.caption(f"An ensemble has no model file of its own: it averages {', '.join(card.get('members') or [])}.")
    else:
        c1.warning("The model file is missing.")
    c2.download_button("Download model card (JSON)", json.dumps(card, indent=1), file_name=f"{name}-card.json",
                       mime="application/json", icon=":material/description:", key="dl_card")
    if card.get("imported"):
        src = card.get("source") or {}
        reads = "; ".join(importing.describe(convention.Convention.from_dict(card["convention"]),
                                             card.get("detection") or {})[i][1] for i in range(4)) \
            if isinstance(card.get("convention"), dict) else "its convention is not recorded"
        st.caption(f"Imported from `{src.get('file')}` (sha256 {str(src.get('sha256'))[:12]}...); it reads {reads}. "
                   "Its test accuracy was measured on import.")
    if card.get("backend") in loading.RUNTIME_BACKENDS:
        st.caption(f"No export: '{name}' is {loading.RUNTIME_WORDS[card['backend']]}, which runs it but cannot "
                   "convert it to another format; the model file above is the imported file itself.")
    else:
        st.markdown("**Export**, checked on 1,000 MNIST test images through the format's own runtime")
        exports.export_buttons(name)

if not gate.is_editor():
    st.stop()  # a visitor looks; the core refuses a visitor's delete, promote and restore in any case
shipped = tasks_mod.SHIPPED.get(of_task.get(name, task), state.DEFAULT)  # what this task's pages read with
if name in (shipped, store.previous_name(shipped)):
    promote_panel.restore_box(shipped, key="models_restore")
if name in tasks_mod.SHIPPED.values():  # in every mode: a shipped model is only ever replaced, by promote
    to = "" if name == state.DEFAULT else f" --to {name}"
    st.caption(f"The shipped `{name}` cannot be deleted here. Pick another {task} model above to promote it "
               f"over `{name}`, or run `python -m mnist_core promote CANDIDATE...{to}`: both compare it with "
               f"`{name}` first and keep the replaced model as `{store.previous_name(name)}`.")
    st.stop()
if card and name != store.previous_name(shipped):
    promote_panel.promote_box([name], shipped, key="models_promote")
with st.container(border=True):
    st.markdown(f"**Delete '{name}'**")
    try:
        files = ", ".join(sorted(p.name for p in store.model_dir(name).iterdir())) or "empty"
    except OSError:
        files = "unreadable"
    sure = st.checkbox(f"Yes, delete the folder models/{name}/ ({files}) for good; runs and other models stay",
                       key=f"models_sure_{name}")
    if st.button("Delete", type="primary", icon=":material/delete:", disabled=not sure, key="models_delete"):
        try:
            store.delete(name)
        except (UserError, OSError) as exc:  # a shipped name, no access, or the disk
            st.error(f"Could not delete '{name}': {exc}")
        else:
            st.session_state["models_flash"] = f"Deleted model '{name}' (the folder models/{name}/: {files})."
            st.rerun()
