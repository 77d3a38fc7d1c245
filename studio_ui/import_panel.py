"""The Models page's "Import a model": upload a file, see what the studio detected, then save it.

The work is mnist_core.models.importing's (the same as `python -m mnist_core
import`): this module uploads, offers the same options as the flags, shows
the detected convention with its scores, and saves only when asked.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from mnist_core import access
from mnist_core.models import convention, importing, store
from studio_ui import state

KEY = "import"
FOUND = "import_found"  # (fingerprint, Opened, Detection) of the last detection in this session
FLASH = "import_flash"
UPLOADS = "import_uploads"  # how many imports this session made: part of the uploader's key
AUTO = "detect"
TYPES = ["keras", "h5", "hdf5", "onnx", "tflite", "zip"]
POLARITY = {AUTO: None, "white on black (as MNIST)": False, "dark on white (inverted)": True}


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


def suggested_name(file_name: str) -> str:
    """A valid store name from a file name: 'My Net (v2).onnx' -> 'my-net-v2'."""
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(file_name).stem.lower()).strip("-_")[:64]
    return stem or "imported"


def import_box(task: str) -> None:
    """The "Import a model" expander (editors only): upload, detect, look, save."""
    if not access.is_editor():
        return
    section = st.expander("Import a model", key=f"{KEY}_open", on_change="rerun", icon=":material/upload_file:")
    if not section.open:
        return
    with section:
        st.caption(f"A model trained elsewhere: a Keras `.keras` or `.h5` file, ONNX (`.onnx`, e.g. from PyTorch), "
                   f"LiteRT (`.tflite`) or a TensorFlow SavedModel as `.zip`, up to "
                   f"{importing.MAX_BYTES // 2**20} MB, reading one 28x28 image and giving the {task} task's "
                   "classes. The studio works out how it wants its pixels by trying each convention on "
                   "validation images; set any part yourself below. Keras files load in safe mode: no code "
                   "from the file runs.")
        # A new key after each import: the uploader starts empty again.
        upload = st.file_uploader("Model file", type=TYPES, key=f"{KEY}_file_{st.session_state.get(UPLOADS, 0)}")
        c1, c2 = st.columns(2)
        layout = c1.selectbox("Input layout", [AUTO, *convention.LAYOUTS], key=f"{KEY}_input",
                              format_func=lambda v: "detect from the input shape" if v == AUTO else
                              convention.LAYOUT_WORDS[v])
        scale = c2.selectbox("Pixel scale", [AUTO, *convention.SCALES], key=f"{KEY}_scale",
                             format_func=lambda v: "detect" if v == AUTO else convention.SCALE_WORDS[v])
        polarity = c1.selectbox("Polarity", list(POLARITY), key=f"{KEY}_invert",
                                format_func=lambda v: "detect" if v == AUTO else v)
        outputs = c2.selectbox("Outputs", [AUTO, *convention.OUTPUTS], key=f"{KEY}_outputs",
                               format_func=lambda v: {"probs": "probabilities", "logits": "logits (apply softmax)"}
                               .get(v, "detect from the outputs"))
        if upload is None:
            st.session_state.pop(FOUND, None)
            return
        options = {"input": None if layout == AUTO else layout, "scale": None if scale == AUTO else scale,
                   "invert": POLARITY[polarity], "outputs": None if outputs == AUTO else outputs}
        fingerprint = (getattr(upload, "file_id", None), upload.name, upload.size, task, tuple(options.items()))
        found = st.session_state.get(FOUND)
        if found is None or found[0] != fingerprint:
            if st.button("Detect", type="primary", icon=":material/search:", key=f"{KEY}_detect"):
                _detect(upload, task, options, fingerprint)
                st.rerun()
            return
        _show(found[1], found[2], task)


def _detect(upload, task: str, options: dict, fingerprint) -> None:
    st.session_state.pop(FOUND, None)
    with st.spinner(f"Reading {upload.name} and scoring each input convention on validation images..."):
        try:
            with tempfile.TemporaryDirectory(prefix="mnist-upload-") as tmp:
                path = Path(tmp) / "upload"
                path.write_bytes(upload.getvalue())
                opened = importing.open_file(path, source_name=Path(upload.name).name)
            found = importing.detect(opened, task, probe=_probe(task), **options)
        except store.StoreError as exc:
            st.session_state[FOUND] = (fingerprint, None, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a file from anywhere: say what went wrong, never crash
            st.session_state[FOUND] = (fingerprint, None, f"cannot import '{upload.name}': {type(exc).__name__}: {exc}")
            return
    st.session_state[FOUND] = (fingerprint, opened, found)


def _probe(task: str):
    if task != "digits":
        return None
    raw = state.mnist()  # already loaded by this server: the validation slice without reading MNIST again
    start = len(raw.x_train) - 5000
    from mnist_core.data import mnist

    x = mnist.to_model_input(raw.x_train[start:start + importing.DETECT_N])
    return x, raw.y_train[start:start + importing.DETECT_N], \
        f"the first {len(x):,} images of MNIST's validation split"


def _show(opened, found, task: str) -> None:
    if opened is None:
        st.error(f"Not imported: {found}. Nothing was saved.")
        return
    src = opened.source
    st.markdown(f"**Detected** in `{src['file']}` ({importing.FORMAT_WORDS[opened.format]}, "
                f"{src['bytes'] / 1024:,.0f} KB), to run as **{opened.backend}**; input shaped "
                f"`{convention.shape_text(opened.input_dims)}`:")
    rows = importing.describe(found.convention, found.to_dict())
    st.table(pd.DataFrame(rows, columns=["part", "found", "how"]).set_index("part"))
    for warning in found.warnings:
        st.warning(warning)
    for note in opened.notes:
        st.caption(f"Note: {note}.")
    candidates = importing.candidate_rows(found.to_dict())
    if len(candidates) > 1:
        st.caption(f"Every convention tried, on {found.probe}:")
        st.dataframe(pd.DataFrame(candidates), hide_index=True, key=f"{KEY}_candidates", column_config={
            "accuracy": st.column_config.NumberColumn(format="percent"),
            "log loss": st.column_config.NumberColumn(format="%.3f")})
    c1, c2 = st.columns([2, 1])
    name = c1.text_input("Save as", value=suggested_name(src["file"]), key=f"{KEY}_name", max_chars=64)
    replace = c2.checkbox("Replace a model of that name", key=f"{KEY}_replace")
    if not st.button("Save to the store", type="primary", icon=":material/save:", key=f"{KEY}_save"):
        st.caption("Saving measures its accuracy on the whole test set (seconds) and copies the file into the store.")
        return
    with st.spinner(f"Measuring '{name}' on the test set and saving it..."):
        try:
            card = importing.save(opened, found, name.strip(), replace=replace, task=task,
                                  test_set=state.test_set(task))
        except store.StoreError as exc:
            st.error(f"Not saved: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - said, never a crash
            st.error(f"Not saved: {type(exc).__name__}: {exc}")
            return
    st.session_state.pop(FOUND, None)
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1
    st.session_state[FLASH] = (f"Imported '{card['name']}' ({card['backend']}): test accuracy "
                               f"{card['test_accuracy']:.2%}, measured now. It is the active model: test it on "
                               "Batch and Draw, or look inside it on Inspect.")
    st.session_state[state.ACTIVE] = card["name"]
    st.session_state.pop("models_pick", None)  # the Model box then opens on the active model: this one
    st.rerun()
