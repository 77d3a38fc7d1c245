"""Inspect: where the active model goes wrong on the test set, what it looks at, its layers and its map."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.analysis import evaluate, explain, layers
from mnist_core.models import store
from studio_ui import charts, embedding_view, pictures, routing, state

routing.ensure_router()

MISTAKES_SHOWN = 30
PAIR_SHOWN = 30
DEEP_CHANNELS = 16  # a deep layer's most active maps for this image; all of its kernels would be thousands
PER_ROW = 2  # two charts a row: tiles stay large enough to see
METHOD_NAMES = {"evidence": "Evidence in the ink", "smoothgrad": "SmoothGrad", "gradient": "Gradient"}
METHOD_NOTES = {
    "evidence": "Empty paper is never lit: it shows which strokes made the model say so.",
    "smoothgrad": "Lit pixels may be empty paper: ink added there would change the answer.",
    "gradient": "Noisy, and lit on empty paper too: ink added there would change the answer.",
}


def in_rows(items: list, per_row: int = PER_ROW):
    """(column, item) pairs, at most `per_row` columns to a row."""
    for start in range(0, len(items), per_row):
        yield from zip(st.columns(per_row), items[start:start + per_row])


def showing(shown: int, total: int, what: str) -> str:
    return f"all {total:,} {what}" if shown >= total else f"showing {shown:,} of {total:,} {what}"


st.title("Inspect")
state.task_switch("insp_task")
name = state.active_name()
if name is None:
    state.require_model("inspect")  # explains there is none, and stops
task = state.task_of(name)
data = state.require_test_set(task)  # a shapes model is scored on the generated test shapes, never on MNIST
try:
    card = store.read_card(name)
    # From the file kept beside the card when it is still valid: no TensorFlow, no 10,000 predictions.
    probs = state.test_probs_of(name, task)
except store.StoreError as exc:
    state.stop_unusable(name, exc)
x_test, y_test, names, noun = data.x, data.y, list(data.class_names), data.noun
k = len(names)
pred, conf = probs.argmax(axis=1), probs.max(axis=1)
report = evaluate.summarize(probs, y_test, mistakes_limit=MISTAKES_SHOWN)
cm = np.asarray(report["confusion"])
n_wrong = report["n"] - report["correct"]
for key, top in (("insp_true", k), ("insp_pred", k), ("insp_index", len(y_test))):
    if not 0 <= st.session_state.get(key, 0) < top:  # left by a model of the other task
        del st.session_state[key]

lo, hi = report["ci95"]
st.markdown(f"Model **{name}** ({card.get('kind', card.get('backend'))}): test accuracy "
            f"**{report['accuracy']:.2%}** (95% interval {lo:.2%} to {hi:.2%}), "
            f"{n_wrong:,} mistakes out of {report['n']:,} {data.description}.")


def _select_cell() -> None:
    """Chart click -> the two selectboxes below (they are the single source of truth)."""
    points = st.session_state["insp_cm"]["selection"]["points"]
    if points:  # the cell's class names
        st.session_state["insp_true"] = names.index(str(points[-1]["y"]))
        st.session_state["insp_pred"] = names.index(str(points[-1]["x"]))


def test_set_view() -> None:
    """Confusion matrix, per-class metrics and the most confident mistakes: from the kept predictions alone."""
    st.subheader("Confusion matrix")
    worst_true, worst_pred = evaluate.most_confused(cm) or (0, 0)
    st.session_state.setdefault("insp_true", worst_true)
    st.session_state.setdefault("insp_pred", worst_pred)
    left, right = st.columns([3, 2])
    with left:
        selected = (st.session_state["insp_true"], st.session_state["insp_pred"])
        st.plotly_chart(charts.confusion(cm, selected, names=names, noun=noun), key="insp_cm",
                        on_select=_select_cell, selection_mode="points", config={"displayModeBar": False})
        st.caption(f"Rows: true {noun}; columns: predicted. Click a cell to see its images.")
    with right:
        c1, c2 = st.columns(2)
        true = c1.selectbox(f"True {noun}", range(k), key="insp_true", format_func=names.__getitem__)
        predicted = c2.selectbox(f"Predicted {noun}", range(k), key="insp_pred", format_func=names.__getitem__)
        order = -conf if true == predicted else conf  # correct ones: least sure first
        idx = explain.confusion_examples(y_test, pred, true, predicted, order, limit=PAIR_SHOWN)
        count = int(cm[true, predicted])
        what = "read correctly, least confident first" if true == predicted else "misread, most confident first"
        st.markdown(f"**{count:,}** test images of a **{names[true]}** predicted as **{names[predicted]}** ({what}):")
        if len(idx):
            st.caption(showing(len(idx), count, "images") + ". Under each: its test number and the model's confidence.")
            st.image([pictures.crisp(x_test[i], 2) for i in idx], width=56,
                     caption=[f"#{i} · {conf[i]:.0%}" for i in idx])
        else:
            st.caption("None.")

    st.subheader("Per-class precision, recall and F1")
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.per_class(report["per_class"], names, noun))
    per_class_rows = evaluate.per_class_table(report["per_class"], names, noun)
    # A static table: a dozen rows need no data grid, whose script costs a page a few tenths of a second.
    right.table(pd.DataFrame(per_class_rows).style.format("{:.3f}", subset=["precision", "recall", "f1"]),
                hide_index=True)

    st.subheader("Most confident mistakes")
    if report["mistakes"]:
        st.caption(f"{showing(len(report['mistakes']), n_wrong, 'mistakes')}: the test images the model got wrong "
                   f"while most sure of itself. Under each: true {noun}, prediction, confidence.")
        st.image([pictures.crisp(x_test[m["index"]], 3) for m in report["mistakes"]], width=84,
                 caption=[f"{names[m['label']]} as {names[m['prediction']]}, {m['confidence']:.0%}"
                          for m in report["mistakes"]])
    else:
        st.success("No mistakes on the test set.")


def _drawn() -> list:
    """The digits (or the shape) of the latest drawing of this task, as the model saw them."""
    digits = st.session_state.get(state.DRAW_DIGITS) or (
        [st.session_state[state.DRAW_KEY]] if state.DRAW_KEY in st.session_state else [])
    return digits if st.session_state.get(state.DRAW_TASK, "digits") == task else []


def _pick_input():
    """(image 28x28x1, label) from a test image or a digit (or shape) of the latest drawing of this task."""
    digits = _drawn()
    drawn = ([f"digit {i + 1} of your drawing" for i in range(len(digits))] if len(digits) > 1
             else ["the latest canvas drawing"] if digits else [])
    drawing = hashlib.sha1(np.asarray(digits, np.float32).tobytes()).hexdigest() if digits else None
    if drawn and st.session_state.get("insp_seen_drawing") != drawing:  # a new drawing: explain it first
        st.session_state["insp_source"] = drawn[0]
        st.session_state["insp_seen_drawing"] = drawing
    source = st.radio("Explain", ["a test image", *drawn], horizontal=True, key="insp_source")
    if source != "a test image" and source in drawn:
        i = drawn.index(source)
        which = f"digit {i + 1} of your drawing" if len(digits) > 1 else "your latest drawing"
        return np.asarray(digits[i], np.float32).reshape(28, 28, 1), f"{which}, as the model sees it"
    c1, c2, _ = st.columns([1, 1, 2])
    if c2.button("A random mistake", icon=":material/shuffle:", disabled=not len(report["mistakes"])):
        st.session_state["insp_index"] = int(np.random.default_rng().choice(np.flatnonzero(pred != y_test)))
    st.session_state.setdefault("insp_index", report["mistakes"][0]["index"] if report["mistakes"] else 0)
    index = int(c1.number_input("Test image number", 0, len(y_test) - 1, key="insp_index"))
    return x_test[index], f"test image #{index}, labelled {names[y_test[index]]}"


@st.fragment
def look_inside() -> None:
    """Saliency, feature maps and filters: the only part that needs the model itself (and TensorFlow)."""
    st.subheader("Look inside")
    x, label = _pick_input()
    model = state.require_model("inspect")
    reason = model.why_no_graph()
    if reason:  # an imported ONNX or LiteRT file: its predictions, and plainly what cannot be shown
        st.info(f"No saliency map, feature maps or filters: {reason}. Its operator graph is on the Layers tab.",
                icon=":material/info:")
        probs = model.predict_proba(x)[0]
        said = names[int(probs.argmax())]
        c1, c2 = st.columns(2)
        c1.plotly_chart(charts.image(x[..., 0], title=f"The input: {label}", height=320))
        c2.plotly_chart(charts.probabilities(probs, title=f"Prediction {said} ({probs.max():.0%})", height=320,
                                             names=names, noun=noun))
        return
    method = st.segmented_control("Saliency", list(explain.SALIENCY_METHODS), default="evidence",
                                  format_func=METHOD_NAMES.__getitem__, key="insp_saliency") or "evidence"
    try:
        sal = explain.saliency(model, x, method)
    except explain.ExplainError as exc:
        st.info(f"No saliency map for this model: {exc}.")
        return
    st.caption(f"The input: {label}.")
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(charts.image(x[..., 0], title="Input", height=320))
    said = names[sal["prediction"]]
    c2.plotly_chart(charts.saliency_map(sal["map"], x, title=f"Saliency for '{said}'", height=320))
    c3.plotly_chart(charts.probabilities(sal["probs"], title=f"Prediction {said} ({sal['confidence']:.0%})",
                                         height=320, names=names, noun=noun))
    what = explain.SALIENCY_METHODS[method]
    c2.caption(f"{what[0].upper() + what[1:]} (scaled to the brightest pixel); the blue line is "
               f"the {noun}'s outline. " + METHOD_NOTES[method])
    members = getattr(model, "members", None)
    if members:
        st.caption(f"'{model.name}' is an ensemble of {len(members)} models; its saliency map averages their "
                   f"gradients. The feature maps and filters below are those of its first member, "
                   f"'{members[0].name}'.")
    if not explain.conv_layers(model):
        st.info(f"'{model.name}' has no convolutional layers ({model.card.get('kind', model.backend)}), so there "
                "are no filters or feature maps to show. The saliency map above works for every model.")
        return
    feature_maps(model, x)
    first_filters(model)


def feature_maps(model, x: np.ndarray) -> None:
    layers = explain.feature_maps(model, x)
    st.markdown("**Feature maps**: what a convolution layer passes on for this image, one tile per channel. "
                f"Layers with many channels show their {DEEP_CHANNELS} most active; maps of 2x2 or smaller "
                "are shown as bars of their mean activation. Step through the layers to see the picture "
                "become more abstract.")
    titles = [layer["title"] for layer in layers]
    chosen = st.select_slider("Layer", titles, value=titles[0], key="insp_layer") if len(titles) > 1 else titles[0]
    layer = layers[titles.index(chosen)] if chosen in titles else layers[0]
    view = explain.layer_view(layer, DEEP_CHANNELS)
    left, right = st.columns(PER_ROW)
    if view["kind"] == "bars":
        left.plotly_chart(charts.bars(view["values"], [f"ch {c}" for c in view["channels"]], view["title"],
                                      value_title="mean activation", label_title="channel, most active first"))
        left.caption(f"Each bar is one of this layer's {view['total']} channels (numbered as in the layer), "
                     "its map too small to draw, so its mean activation for this image instead.")
    else:
        left.plotly_chart(charts.image(explain.maps_grid(layer["maps"], channels=view["channels"]),
                                       title=view["title"], colorscale="Viridis", height=420, showscale=True,
                                       hover="share of the layer's strongest activation"))
    right.markdown("\n".join(f"- {'**' + t + '**' if t == chosen else t}" for t in titles))
    right.caption("Colour: each activation as a share of the layer's strongest (0 dark, 1 yellow). "
                  f"Early layers respond to strokes and edges; deep ones to parts of {noun}s.")


def first_filters(model) -> None:
    first = explain.conv_filters(model)[0]
    kh, kw, n_in, n_out = first["weights"].shape
    st.markdown(f"**Filters of the first layer** ({first['title']}): the patterns it looks for in the pixels, "
                "red where ink adds to a filter's response, blue where it subtracts.")
    left, _ = st.columns(PER_ROW)
    left.plotly_chart(charts.signed_image(explain.filter_grid(first["weights"]),
                                          title=f"{first['title']}: all {n_out} filters", height=380))
    deeper = len(explain.conv_layers(model)) - 1
    if deeper:
        which = "The deeper layer's filters each mix" if deeper == 1 else f"The {deeper} deeper layers' filters each mix"
        st.caption(f"{which} many input maps (not pictures of pixels), "
                   "so they are not drawn; their effect shows in the feature maps above.")


def layers_view() -> None:
    """Every layer's type, output shape, parameters and multiply-adds: model.summary(), readable."""
    model = state.require_model("inspect")
    rows = layers.layer_table(model)
    members = getattr(model, "members", None)
    if members:
        st.caption(f"'{model.name}' is an ensemble of {len(members)} models; these are the layers of its first "
                   f"member, '{members[0].name}'.")
        model = members[0]
    if not rows:
        st.info(f"No layer table for '{model.name}'.")
        return
    total, macs = sum(r["params"] for r in rows), layers.total_macs(rows)
    what = "operator graph's nodes" if model.backend in ("onnx", "litert") else "layers"
    st.markdown(f"**{len(rows)}** {what} of **{model.name}**: **{total:,}** parameters"
                + (f", **{macs:,}** multiply-adds per image" if macs is not None else "") + ".")
    frame = pd.DataFrame([{"layer": r["layer"], "type": r["type"], "output shape": r["output_shape"],
                           "parameters": r["params"], "share": r["share"] * 100, "multiply-adds": r["macs"],
                           "Look inside": r["conv"] or ""} for r in rows])
    if not any(r["conv"] for r in rows):
        frame = frame.drop(columns="Look inside")
    st.dataframe(frame, hide_index=True, key="insp_layers", width="stretch", column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "share": st.column_config.ProgressColumn("share of parameters", format="%.1f%%", min_value=0, max_value=100),
        "multiply-adds": st.column_config.NumberColumn(format="localized", help="Per image, for dense and "
                                                       "convolution layers (0 for layers without weights)."),
        "Look inside": st.column_config.TextColumn(help="The name this layer's feature maps have on the Look "
                                                   "inside tab.")})
    convs = [r["conv"] for r in rows if r["conv"]]
    if convs:
        st.caption("Convolution layers' feature maps and the first layer's filters are on the Look inside tab, "
                   "under the names in the last column.")


# Lazy tabs: only the open one runs and is drawn. Look inside needs the model and TensorFlow (seconds on a
# server's first visit) and draws five charts; the test-set view needs neither. After a drawing of this
# task, the page opens on Look inside, where the drawing is explained.
test_tab, look_tab, layers_tab, map_tab = st.tabs(["Test set", "Look inside", "Layers", "Map"], key="insp_view",
                                                   on_change="rerun", default="Look inside" if _drawn() else "Test set")
if test_tab.open:
    with test_tab:
        test_set_view()
if look_tab.open:
    with look_tab:
        look_inside()
if layers_tab.open:
    with layers_tab:
        layers_view()
if map_tab.open:
    with map_tab:
        embedding_view.show(state.require_model("inspect"), data, names, noun, task)
