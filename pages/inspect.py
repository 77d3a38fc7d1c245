"""Inspect: where the active model goes wrong on the test set, and what it looks at."""

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.analysis import evaluate, explain
from studio_ui import charts, pictures, routing, state

routing.ensure_router()

MISTAKES_SHOWN = 30
PAIR_SHOWN = 30
PER_ROW = 3  # the default model has seven conv layers: in one row each chart would be a sliver


def in_rows(items: list, per_row: int = PER_ROW):
    """(column, item) pairs, at most `per_row` columns to a row."""
    for start in range(0, len(items), per_row):
        yield from zip(st.columns(per_row), items[start:start + per_row])


st.title("Inspect")
model = state.require_model("inspect")
splits = state.require_splits()
probs = state.active_test_probs(model)
y_test = splits.y_test
pred, conf = probs.argmax(axis=1), probs.max(axis=1)
report = evaluate.summarize(probs, y_test, mistakes_limit=MISTAKES_SHOWN)
cm = np.asarray(report["confusion"])

lo, hi = report["ci95"]
st.markdown(f"Model **{model.name}** ({model.card.get('kind', model.backend)}): test accuracy "
            f"**{report['accuracy']:.2%}** (95% interval {lo:.2%} to {hi:.2%}), "
            f"{report['n'] - report['correct']:,} mistakes out of {report['n']:,} test images.")


def _select_cell() -> None:
    """Chart click -> the two selectboxes below (they are the single source of truth)."""
    points = st.session_state["insp_cm"]["selection"]["points"]
    if points:
        st.session_state["insp_true"] = int(points[-1]["y"])
        st.session_state["insp_pred"] = int(points[-1]["x"])


st.subheader("Confusion matrix")
worst_true, worst_pred = evaluate.most_confused(cm) or (0, 0)
st.session_state.setdefault("insp_true", worst_true)
st.session_state.setdefault("insp_pred", worst_pred)
left, right = st.columns([3, 2])
with left:
    selected = (st.session_state["insp_true"], st.session_state["insp_pred"])
    st.plotly_chart(charts.confusion(cm, selected), key="insp_cm", on_select=_select_cell,
                    selection_mode="points", config={"displayModeBar": False})
    st.caption("Rows: true digit; columns: predicted. Click a cell to see its images.")
with right:
    c1, c2 = st.columns(2)
    true = c1.selectbox("True digit", range(10), key="insp_true")
    predicted = c2.selectbox("Predicted digit", range(10), key="insp_pred")
    order = -conf if true == predicted else conf  # correct ones: least sure first
    idx = explain.confusion_examples(y_test, pred, true, predicted, order, limit=PAIR_SHOWN)
    count = int(cm[true, predicted])
    what = "read correctly, least confident first" if true == predicted else "misread, most confident first"
    st.markdown(f"**{count:,}** test images of a **{true}** predicted as **{predicted}** ({what}):")
    if len(idx):
        st.image([pictures.crisp(splits.x_test[i], 2) for i in idx], width=56,
                 caption=[f"#{i} · {conf[i]:.0%}" for i in idx])
    else:
        st.caption("None.")

st.subheader("Per-class precision, recall and F1")
left, right = st.columns([3, 2])
left.plotly_chart(charts.per_class(report["per_class"]))
right.dataframe(pd.DataFrame(report["per_class"]), hide_index=True, column_config={
    m: st.column_config.NumberColumn(format="%.3f") for m in ("precision", "recall", "f1")})

st.subheader("Most confident mistakes")
if report["mistakes"]:
    st.image([pictures.crisp(splits.x_test[m["index"]], 3) for m in report["mistakes"]], width=84,
             caption=[f"{m['label']} as {m['prediction']}, {m['confidence']:.0%}" for m in report["mistakes"]])
    st.caption("Test images the model got wrong while most sure of itself: true digit, prediction, confidence.")
else:
    st.success("No mistakes on the test set.")

st.subheader("Look inside")
sources = ["a test image"] + (["the latest canvas drawing"] if state.DRAW_KEY in st.session_state else [])
source = st.radio("Explain", sources, horizontal=True, key="insp_source")
if source == "a test image":
    c1, c2, _ = st.columns([1, 1, 2])
    if c2.button("A random mistake", icon=":material/shuffle:", disabled=not len(report["mistakes"])):
        wrong = np.flatnonzero(pred != y_test)
        st.session_state["insp_index"] = int(np.random.default_rng().choice(wrong))
    st.session_state.setdefault("insp_index", report["mistakes"][0]["index"] if report["mistakes"] else 0)
    index = c1.number_input("Test image number", 0, len(y_test) - 1, key="insp_index")
    x = splits.x_test[int(index)]
    label = f"test image #{int(index)}, labelled {y_test[int(index)]}"
else:
    x = np.asarray(st.session_state[state.DRAW_KEY], np.float32).reshape(28, 28, 1)
    label = "your latest drawing (as the model sees it)"

try:
    sal = explain.saliency(model, x)
except explain.ExplainError as exc:
    st.info(f"No saliency map for this model: {exc}.")
    st.stop()
c1, c2, c3 = st.columns(3)
c1.plotly_chart(charts.image(x[..., 0], title=label, height=300))
c2.plotly_chart(charts.probabilities(sal["probs"], title=f"prediction {sal['prediction']} "
                                                         f"({sal['confidence']:.0%})", height=300))
c3.plotly_chart(charts.saliency(x, sal["map"], height=300))
c3.caption("Saliency: how much each pixel changes the predicted class's score (gradient magnitude).")

members = getattr(model, "members", None)
if members:
    st.caption(f"'{model.name}' is an ensemble of {len(members)} models; its saliency map averages their "
               f"gradients. The filters and feature maps below are those of its first member, "
               f"'{members[0].name}'.")
layers = explain.conv_layers(model)
if not layers:
    st.info(f"'{model.name}' has no convolutional layers ({model.card.get('kind', model.backend)}), so there are "
            "no filters or feature maps to show. The saliency map above works for every model.")
else:
    st.markdown("**Feature maps**: each conv block's output for this image, one tile per channel.")
    maps = explain.feature_maps(model, x)
    for col, layer in in_rows(maps):
        h, w, c = layer["maps"].shape
        col.plotly_chart(charts.image(explain.maps_grid(layer["maps"]), title=f"{layer['name']}: {c} maps, {h}x{w}",
                                      colorscale="Viridis", height=380))
    st.markdown("**Filters**: the learned kernels of every conv layer (red positive, blue negative). "
                "For deeper layers, rows are input channels and columns output channels.")
    filters = explain.conv_filters(model)
    for col, f in in_rows(filters):
        kh, kw, n_in, n_out = f["weights"].shape
        col.plotly_chart(charts.signed_image(explain.filter_grid(f["weights"]),
                                             title=f"{f['name']}: {n_out} filters of {kh}x{kw}x{n_in}", height=420))
