"""Models: compare saved models, overlay their learning curves, download or delete them."""

import json

import pandas as pd
import streamlit as st

from mnist_core.analysis import leaderboard
from mnist_core.analysis import report as html_report

from mnist_core.models import store
from studio_ui import charts, exports, gate, routing, state

routing.ensure_router()

st.title("Models")
flash = st.session_state.pop("models_flash", None)
if flash:
    st.success(flash)

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

rows = leaderboard.rows(cards)
table = pd.DataFrame(rows)
broken = table[table["error"].notna()] if "error" in table else table.iloc[0:0]
good = table[table["error"].isna()] if "error" in table else table
st.dataframe(
    good[[c for c in leaderboard.COLUMNS if c in good]], hide_index=True, key="models_table",
    column_config={
        "test_accuracy": st.column_config.NumberColumn("test accuracy", format="percent"),
        "test_loss": st.column_config.NumberColumn("test loss", format="%.4f"),
        "params": st.column_config.NumberColumn("parameters", format="localized"),
        "train_seconds": st.column_config.NumberColumn("training s", format="%.1f"),
        "inference_ms": st.column_config.NumberColumn("ms / image", format="%.2f",
                                                      help="Median time to classify one image."),
        "train_size": st.column_config.NumberColumn("train images", format="localized"),
    })
for _, bad in broken.iterrows():
    st.warning(f"Model '{bad['name']}' cannot be read: {bad['error']}. Delete it below.")

st.subheader("Learning curves")
names = list(good["name"])
chosen = st.multiselect("Models to compare", names, default=names[:3], key="models_compare")
by_name = {c["name"]: c for c in cards}
series = {n: leaderboard.curves(by_name[n]) for n in chosen}
if chosen:
    split = st.segmented_control("Curves", ["validation", "train"], default="validation", key="models_split") \
        or "validation"
    prefix = "val_" if split == "validation" else ""
    left, right = st.columns(2)
    left.plotly_chart(charts.metric_lines(series, "epoch", prefix + "accuracy", f"{split} accuracy", percent=True))
    right.plotly_chart(charts.metric_lines(series, "epoch", prefix + "loss", f"{split} loss"))
else:
    st.caption("Choose one or more models to overlay their per-epoch curves.")
exports.report_button("models_report", [(c.get("name"), c.get("created"), c.get("exports")) for c in cards],
                      lambda: html_report.comparison_html(cards),
                      "models-report.html", "comparison report (HTML)")

st.subheader("One model")
all_names = [r["name"] for r in rows]
active = state.active_name()
name = st.selectbox("Model", all_names, index=all_names.index(active) if active in all_names else 0,
                    key="models_pick")
try:
    card = store.read_card(name)
except store.StoreError as exc:
    card = None
    st.warning(str(exc))

if card:
    with st.expander("Model card", expanded=False):
        st.json(card, expanded=1)
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
    st.markdown("**Export**, checked on 1,000 MNIST test images through the format's own runtime")
    exports.export_buttons(name)

if not gate.is_editor():
    st.stop()  # a visitor looks; the core refuses a visitor's delete in any case
if name == state.DEFAULT:  # in every mode: the shipped model is only ever replaced, by promote
    st.caption("The shipped `default` cannot be deleted here; replace it with "
               "`python -m mnist_core promote CANDIDATE...`, which copies the best by validation over it.")
    st.stop()
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
        except store.StoreError as exc:
            st.error(f"Could not delete '{name}': {exc}")
        except OSError as exc:
            st.error(f"Could not delete '{name}': {exc}")
        else:
            st.session_state["models_flash"] = f"Deleted model '{name}' (the folder models/{name}/: {files})."
            st.rerun()
