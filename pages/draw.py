"""Draw: digits drawn on a canvas, read by the active model as they are drawn."""

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_core.handwriting import reading as hw

from mnist_core.models import store
from mnist_core.handwriting.decode import ImageError
from studio_ui import charts, pictures, routing, state

routing.ensure_router()


st.title("Draw")
model = state.require_model("read your drawing")
st.caption(f"Draw one digit, or several side by side to write a number. The active model, **{model.name}**, "
           "reads the drawing after every stroke.")

controls, canvas_col = st.columns([1, 3])
with controls:
    width = st.slider("Pen width", 4, 40, 18, key="draw_width")
    if st.button("Clear", icon=":material/ink_eraser:", key="draw_clear"):
        st.session_state["draw_canvas_n"] = st.session_state.get("draw_canvas_n", 0) + 1
        st.session_state.pop(state.DRAW_KEY, None)
    compare = st.toggle("Every saved model's reading", key="draw_compare")
with canvas_col:
    canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000", height=280,
                       width=640, drawing_mode="freedraw", return_image_data=True,
                       key=f"draw_canvas_{st.session_state.get('draw_canvas_n', 0)}")

drawing = canvas.image_data
if drawing is None or not np.asarray(drawing)[..., :3].any():
    st.info("The canvas is empty: draw a digit with the mouse (or a finger on a touch screen).")
    st.stop()

try:
    reading = hw.read_image(model, np.asarray(drawing))
except ImageError as exc:
    st.error(f"The drawing could not be read: {exc}")
    st.stop()

found = [(p, d) for p, d in zip(reading["prepared"], reading["digits"]) if p.found]
if not found:
    reason = reading["prepared"][0].reason if reading["prepared"] else "no digit found"
    st.warning(f"No prediction: {reason}. Draw a larger or clearer digit.")
    st.stop()

st.session_state[state.DRAW_KEY] = found[0][0].x
number = reading["number"] or "".join(str(d["prediction"]) for _, d in found)
low = [d for _, d in found if d.get("uncertain", d["confidence"] < hw.UNCERTAIN_BELOW)]
st.metric("The model reads", number, help="Digits are read left to right.")
if low:
    st.warning(f"Uncertain: the model is less than {hw.UNCERTAIN_BELOW:.0%} sure of "
               f"{'this digit' if len(found) == 1 else f'{len(low)} of these digits'}. Try drawing more clearly.")

if len(found) == 1:
    prep, digit = found[0]
    with st.container(border=True):
        left, right = st.columns([1, 3])
        left.image(pictures.crisp(prep.x, 5), caption="what the model sees (28x28)")
        right.plotly_chart(charts.probabilities(digit["probs"], title=f"{digit['prediction']} "
                                                f"({digit['confidence']:.0%})", height=240), key="draw_probs_0")
else:
    per_row = min(len(found), 4)
    for start in range(0, len(found), per_row):
        for col, (i, (prep, digit)) in zip(st.columns(per_row), list(enumerate(found))[start:start + per_row]):
            with col.container(border=True):
                st.image(pictures.crisp(prep.x, 3), caption=f"digit {i + 1}: what the model sees")
                st.plotly_chart(charts.probabilities(digit["probs"], title=f"{digit['prediction']} "
                                                     f"({digit['confidence']:.0%})", height=220), key=f"draw_probs_{i}")

with st.expander("How the drawing was turned into MNIST's format"):
    for i, (prep, _) in enumerate(found):
        if len(found) > 1:
            st.markdown(f"**Digit {i + 1}**")
        if prep.steps:
            st.image([pictures.crisp(img, max(1, 112 // max(img.shape))) for _, img in prep.steps],
                     caption=[title for title, _ in prep.steps])

if compare:
    rows = hw.every_model_reads(np.stack([p.x for p, _ in found]), store.list_models(), state.load_model)
    st.subheader("Every saved model's reading")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "confidence": st.column_config.ProgressColumn(
            format="percent", min_value=0, max_value=1,
            help="How sure the model is of the digit it is least sure of."),
        "test_accuracy": st.column_config.NumberColumn("test accuracy", format="percent")})
    if len(store.list_names()) > hw.COMPARE_LIMIT:
        st.caption(f"The {hw.COMPARE_LIMIT} models with the best test accuracy.")
