"""Draw: digits or shapes drawn on a canvas, read by the active model of that task as they are drawn."""

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_core.handwriting import reading as hw
from mnist_core.handwriting.compare import COMPARE_LIMIT, every_model_reads

from mnist_core.models import store
from mnist_core.handwriting.decode import ImageError, load_image
from studio_ui import finetune_panel, light_charts, pictures, routing, state, viewport

routing.ensure_router()

SAVED_KEY = "draw_saved"  # the last drawing (canvas json and pixels), kept while the user visits other pages
RESTORE_KEY = "draw_restore"  # the json the canvas was mounted with on this visit (constant until Clear)
CANVAS_MAX, CANVAS_MIN = 640, 240  # px: a desktop's canvas, and the narrowest one worth drawing on

st.title("Draw")
state.task_switch("draw_task")
# The card, not the model, for what comes before the canvas: the model (TensorFlow, a few seconds
# on a server's first visit) loads after the canvas is on screen, while the user starts drawing.
card = state.require_card("read your drawing")
active = state.active_name()
task = state.task_of(active)  # the store's answer: an ensemble reads as its members do
names, noun = (list(task.classes) if task.named else None), task.noun  # a shapes model's classes; None for digits
if names:
    st.caption(f"Draw one shape ({', '.join(names)}). The active shapes model, **{active}**, reads the whole "
               "drawing as one shape after every stroke.")
else:
    st.caption(f"Draw one digit, or several side by side to write a number. The active model, **{active}**, "
               "reads the drawing after every stroke.")


def _controls() -> tuple[bool, int, bool]:
    """The camera switch, pen width, Clear and the compare switch: (camera, width, compare)."""
    camera = st.toggle("Use the camera", key="draw_camera_on",
                       help=f"Photograph a {noun} written on paper (or several digits side by side) with the webcam "
                            "or the phone's camera: it is read like a drawing.")
    width = st.slider("Pen width", 4, 40, 18, key="draw_width", disabled=camera)
    if names and width > 30:
        st.caption("Shapes read best with a pen of 30 px or less: drawn with a mouse at 35-40 px, 85% were "
                   "read right, against 99.6% at 18 px (see the README).")
    if st.button("Clear", icon=":material/ink_eraser:", key="draw_clear"):
        st.session_state["draw_canvas_n"] = st.session_state.get("draw_canvas_n", 0) + 1
        for key in (state.DRAW_KEY, state.DRAW_DIGITS, state.DRAW_TASK, SAVED_KEY, RESTORE_KEY):
            st.session_state.pop(key, None)
    compare = st.toggle("Every saved model's reading", key="draw_compare")
    return camera, width, compare


def _photo():
    """The camera's photo as an RGB array; None before one is taken or when it cannot be read (said)."""
    shot = st.camera_input(f"Photograph a {noun} on paper", key="draw_camera",
                           help="Dark pen on light paper, filling much of the picture, reads best.")
    if shot is None:
        return None
    try:
        return np.asarray(load_image(shot.getvalue(), shot.name or "camera.jpg").convert("RGB"))
    except ImageError as exc:
        st.error(f"The photo could not be read: {exc}")
        return None


def _canvas(width: int):
    """The canvas, mounted with the last drawing when the user comes back; what it holds (or None)."""
    canvas_key = f"draw_canvas_{st.session_state.get('draw_canvas_n', 0)}"
    saved = st.session_state.get(SAVED_KEY)
    if canvas_key not in st.session_state:
        # The canvas is mounted afresh (first visit, or back from another page, which drops its widget
        # state): redraw the last drawing. The json stays the same for the whole visit, since a new
        # initial_drawing makes the canvas reload itself.
        st.session_state[RESTORE_KEY] = saved["json"] if saved else None
    # The canvas takes a width in pixels: the column's, measured in the browser (a phone's 412 px screen
    # leaves about 380), at most 640; 640 until the browser has said.
    fits = viewport.column_width("draw_canvas_width")
    canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000", height=280,
                       width=max(CANVAS_MIN, min(CANVAS_MAX, fits or CANVAS_MAX)), drawing_mode="freedraw",
                       return_image_data=True, initial_drawing=st.session_state.get(RESTORE_KEY), key=canvas_key)
    drawing = canvas.image_data
    if drawing is None and saved and st.session_state.get(RESTORE_KEY):
        return saved["image"]  # the restored canvas sends its pixels only after the next stroke
    if drawing is not None and canvas.json_data and canvas.json_data.get("objects"):
        st.session_state[SAVED_KEY] = {"json": canvas.json_data, "image": np.asarray(drawing)}
    return drawing


def _steps(prepared: list, camera: bool) -> None:
    # Run only while open: nine pictures per digit are sent on every stroke otherwise.
    steps = st.expander(f"How the {'photo' if camera else 'drawing'} was turned into MNIST's format",
                        expanded=camera, key=f"draw_steps_{'photo' if camera else 'canvas'}", on_change="rerun")
    if not steps.open:
        return
    with steps:
        for i, prep in enumerate(prepared):
            if len(prepared) > 1:
                st.markdown(f"**Digit {i + 1}**")
            if prep.steps:
                st.image([pictures.crisp(img, max(1, 112 // max(img.shape))) for _, img in prep.steps],
                         caption=[title for title, _ in prep.steps])


def _title(digit: hw.DigitReading) -> str:
    if digit.prediction is None:
        return f"not a {noun} (the model's own guess shown)"
    return f"{digit.prediction} ({digit.confidence:.0%}{', uncertain' if digit.uncertain else ''})"


def _warnings(found: list) -> None:
    """What is doubtful about a reading: parts that are not a digit, digits the model is unsure of."""
    low = [d for _, d in found if d.uncertain]
    refused = [d for _, d in found if d.prediction is None]
    if refused:
        st.warning(f"{len(refused)} of these {len(found)} parts {'is' if len(refused) == 1 else 'are'} not a digit "
                   "(marked ?). " + "; ".join(sorted({d.reason for d in refused})) + ".")
    if low:
        st.warning(f"Uncertain: the model is less than {hw.UNCERTAIN_BELOW:.0%} sure of "
                   f"{f'this {noun}' if len(found) == 1 else f'{len(low)} of these digits'}. Try drawing more "
                   "clearly.", icon=":material/help:")
        st.caption(f"The {hw.UNCERTAIN_BELOW:.0%} threshold was chosen on MNIST's validation digits: above it, "
                   "999 in 1000 of the default model's readings are right." +
                   (" It was not tuned for shapes." if names else ""))


def _probabilities(found: list) -> None:
    """What the model saw and its probabilities: one panel for a digit, a row of panels for a number."""
    if len(found) == 1:
        prep, digit = found[0]
        with st.container(border=True):
            left, right = st.columns([1, 3])
            left.image(pictures.crisp(prep.x, 5), caption="what the model sees (28x28)")
            right.plotly_chart(light_charts.probabilities(digit.probs, title=_title(digit), height=240, names=names,
                                                          noun=noun), key="draw_probs_0")
        return
    per_row = min(len(found), 4)
    for start in range(0, len(found), per_row):
        for col, (i, (prep, digit)) in zip(st.columns(per_row), list(enumerate(found))[start:start + per_row]):
            with col.container(border=True):
                st.image(pictures.crisp(prep.x, 3), caption=f"digit {i + 1}: what the model sees")
                st.plotly_chart(light_charts.probabilities(digit.probs, title=_title(digit), height=220),
                                key=f"draw_probs_{i}")


def _every_model(found: list, task: str) -> None:
    rows = every_model_reads(np.stack([p.x for p, _ in found]), store.list_models(), state.load_model, task=task)
    st.subheader(f"Every saved {'shapes ' if names else ''}model's reading")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "confidence": st.column_config.ProgressColumn(
            format="percent", min_value=0, max_value=1,
            help=f"How sure the model is of the {noun} it is least sure of."),
        "test_accuracy": st.column_config.NumberColumn("test accuracy", format="percent")})
    if len(store.list_names()) > COMPARE_LIMIT:
        st.caption(f"The {COMPARE_LIMIT} models with the best test accuracy.")


def _read(model, drawing, camera: bool, compare: bool) -> None:
    """Read the drawing and show the answer, why it may be doubtful, and (when asked) how it was prepared."""
    try:
        reading = hw.read_image(model, np.asarray(drawing))
    except ImageError as exc:
        st.error(f"The drawing could not be read: {exc}")
        return
    found = reading.found
    if not found:
        reason = reading.prepared[0].reason if reading.prepared else f"no {noun} found"
        st.warning(f"No prediction: {reason}. " + (f"Photograph a larger or darker {noun}, filling more of the "
                                                    "picture." if camera else f"Draw a larger or clearer {noun}."))
        if camera and reading.prepared and reading.prepared[0].steps:
            _steps(reading.prepared[:1], camera)
        return
    st.session_state[state.DRAW_KEY] = found[0][0].x
    st.session_state[state.DRAW_DIGITS] = [prep.x for prep, _ in found]  # Inspect explains each digit of a number
    st.session_state[state.DRAW_TASK] = model.task
    if reading.number is None:
        st.metric("The model reads", f"not a {noun}")
        st.warning(f"This does not look like a {noun}: {reading.reason}. " +
                   (f"Draw one of: {', '.join(names)}." if names else "Draw one of 0-9, or several side by side."))
        st.caption(f"(The model alone would have guessed {found[0][1].guess}; a separate check decides whether "
                   f"the drawing is a {noun} at all.)")
        return
    st.metric("The model reads", reading.number, help="The whole drawing is read as one shape." if names else
              "Digits are read left to right; ? marks a part that is not a digit.")
    _warnings(found)
    _probabilities(found)
    if len(found) == 1 and not names:  # the personal collection and fine-tuning are for digits
        finetune_panel.corrections_box(drawing, found[0][1])
    _steps([prep for prep, _ in found], camera)
    if compare:
        _every_model(found, model.task)


@st.fragment
def draw_and_read() -> None:
    """The controls, the canvas and the reading. A stroke reruns only this, not the page around it (the
    router, the sidebar's store listing, the title): with a class drawing at once, every rerun counts."""
    controls, canvas_col = st.columns([1, 3])
    with controls:
        camera, width, compare = _controls()
    with canvas_col:
        drawing = _photo() if camera else _canvas(width)
    model = state.require_model("read your drawing")
    if camera and drawing is None:
        st.info(f"Take a photo of a {noun} written on paper: it is read like a drawing, and the steps that turn it "
                "into MNIST's format are shown below the reading.")
        return
    if drawing is None or not np.asarray(drawing)[..., :3].any():
        st.info(f"The canvas is empty: draw a {noun} with the mouse (or a finger on a touch screen).")
        return
    _read(model, drawing, camera, compare)


draw_and_read()
