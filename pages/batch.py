"""Batch: score uploaded photos or a ZIP of real handwriting with the active model."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core import cluster
from mnist_core.analysis import evaluate as ev
from mnist_core.analysis import report as html_report
from mnist_core.handwriting import reading
from mnist_core.handwriting.collection import Limits
from mnist_core.models import store
from studio_ui import charts, exports, finetune_panel, pictures, routing, sheets_panel, state

routing.ensure_router()

REPORT_KEY = "batch_report"
UPLOAD_MB = Limits().max_total_bytes // 2**20  # what the reader accepts; .streamlit/config.toml agrees (tested)
MISTAKES_SHOWN = 48
IMAGES, SHEETS = "Labelled images or a ZIP", "Read filled-in sheets"

st.title("Batch")
state.task_switch("batch_task")
# The card, not the model, until there is something to read: loading it imports TensorFlow, seconds on a
# server's first visit that the uploader need not wait for.
state.require_card("score uploaded images")
active = state.active_name()
task = state.task_of(active)
names, noun = (list(task.classes) if task.named else None), task.noun  # a shapes model's classes; None for digits
source = st.radio("Read", [IMAGES, SHEETS], horizontal=True, key="batch_source", label_visibility="collapsed")
if source == SHEETS:
    files = sheets_panel.collection(task)
else:
    if names:
        st.markdown(
            "Upload drawings, photos or scans of hand-drawn shapes, or one ZIP of them; each image is one shape. "
            f"Labels are read from a folder per shape (`ellipse/drawing.png`; folders named {', '.join(names)}) "
            "or a name that starts with the shape (`triangle_1.png`); unlabelled images get predictions only. "
            "Each image is turned into MNIST's format before the model reads it.")
    else:
        st.markdown(
            "Upload photos or scans of handwritten digits, or one ZIP of them. Labels are read from a folder per "
            "digit (`7/photo.jpg`) or a name that starts with the digit (`7_photo.png`); unlabelled images get "
            "predictions only. Each image is turned into MNIST's format before the model reads it.")
    uploads = st.file_uploader("Images or a ZIP", accept_multiple_files=True, key="batch_files",
                               max_upload_size=UPLOAD_MB,
                               help=f"PNG, JPEG, GIF, BMP, TIFF or WebP images, or a .zip of them: up to {UPLOAD_MB} "
                                    "MB per file and in all, as the collection reader accepts.")
    files = [(f.name, f.getvalue()) for f in uploads or []]
if not names:  # the personal collection and fine-tuning are for digits
    finetune_panel.collection_box(active)
ray_address = cluster.address_from_env()
on_ray = ray_address is not None and st.toggle(
    f"Decode on the Ray cluster at {ray_address}", value=True, key="batch_on_ray",
    help=f"${cluster.ADDRESS_ENV} names a cluster: large collections are decoded and preprocessed on its "
         "nodes, with the same results as this machine's worker pool.")
if not files:
    if source == SHEETS and files is not None:
        st.warning(f"The sheets hold no {noun} to read yet.")
    elif source != SHEETS:
        st.info(f"Nothing uploaded yet. The active model **{active}** will read the images.")
    if not names:
        finetune_panel.runs_section()  # fine-tuning runs outlive the uploads (a reload clears those)
    st.stop()


model = state.require_model("score uploaded images")


def _fingerprint(files) -> str:
    digest = hashlib.sha256(f"{model.name}:{store.modified(model.name)}".encode())
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _evaluate(files) -> reading.BatchReport:
    bar = st.progress(0.0, text="Reading the images...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text=f"Read {done} of {total} images")

    # A ZIP among the uploads is opened and read entry by entry by the collection reader.
    report = reading.evaluate_images(model, files, progress=progress,
                                     keep_inputs=True, on_ray=ray_address if on_ray else None)
    bar.empty()
    return report


def _thumbnail(i: int):
    """The model's input; for a number, its digits side by side (the whole number squeezed into 28 px is dots)."""
    parts = (report.parts or [None] * (i + 1))[i]
    if parts is not None:
        return pictures.data_url(np.concatenate(list(np.asarray(parts).reshape(-1, 28, 28)), axis=1))
    return pictures.data_url(report.inputs[i]) if report.inputs is not None and i < len(report.inputs) else None


key = _fingerprint(files)
cached = st.session_state.get(REPORT_KEY)
if cached is None or cached[0] != key:
    with state.user_errors("These files could not be read: ", stop=True):
        try:
            st.session_state[REPORT_KEY] = cached = (key, _evaluate(files))
        except cluster.ClusterError as exc:  # the same error, with the way around it
            raise cluster.ClusterError(f"{exc}. Turn off “Decode on the Ray cluster” to read them on this "
                                       "machine.") from None
report = cached[1]
if ray_used := report.ray:
    st.caption(f"Decoded on Ray ({ray_used['address']}): {ray_used['chunks']} chunk(s) on "
               f"{ray_used['nodes_used']} of {ray_used['nodes']} node(s).")

preds = report.predictions
skipped = list(report.skipped)
if not preds:
    st.warning(f"None of the uploaded files held a usable image of a {noun}." +
               (" See the skipped files below." if skipped else ""))
else:
    c1, c2, c3, c4 = st.columns(4)
    if report.accuracy is not None:
        c1.metric("Accuracy", f"{report.accuracy:.1%}")
        c2.metric("Correct", f"{report.correct} of {report.n}")
    else:
        c1.metric("Accuracy", "no labels")
        c2.metric("Images read", len(preds))
    c3.metric("Skipped files", len(skipped))
    c4.metric("Model", model.name)

    if report.n:
        st.subheader("Confusion matrix")
        columns = report.confusion_columns
        st.plotly_chart(charts.confusion(np.asarray(report.confusion), names=names, noun=noun, columns=columns),
                        config={"displayModeBar": False}, key="batch_cm")
        st.caption(f"Rows: the true {noun}; columns: the answer. The last column, “{columns[-1]}”, counts the "
                   f"labelled images refused as not a {noun}: never on the diagonal, so the diagonal sums to the "
                   f"{report.correct} read right.")
        per_class = pd.DataFrame(ev.per_class_table(report.per_class, names, noun)).drop(
            columns=["class_name"], errors="ignore").rename(columns={"support": "images", "refused": f"not a {noun}"})
        for m in ("precision", "recall", "f1"):
            per_class[m] = per_class[m] * 100  # shown as '88.9%' and '100.0%' alike
        st.dataframe(per_class, hide_index=True, key="batch_per_class", column_config={
            m: st.column_config.NumberColumn(format="%.1f%%") for m in ("precision", "recall", "f1")})

    st.subheader("Every image")
    rows = report.rows()
    table = pd.DataFrame(rows[:len(preds)])
    table.insert(0, "input", [_thumbnail(i) for i in range(len(preds))])
    if not names:
        table["label"] = table["label"].astype("Int64")  # whole numbers, blank where unlabelled (not 7.0)
    flagged = int(table["uncertain"].fillna(False).astype(bool).sum())
    table["note"] = table["note"].fillna("")  # blank, not "None", where there is nothing to say
    st.dataframe(table.drop(columns=["status"]), hide_index=True, key="batch_table", column_config={
        "note": st.column_config.TextColumn(width="large", help="Why an image was refused, or a reading to check."),
        "input": st.column_config.ImageColumn("model input", help="The preprocessed 28x28 image the model read; "
                                              "one per digit for a number."),
        "confidence": st.column_config.ProgressColumn(
            format="percent", min_value=0, max_value=1, help="For a number, that of its least sure digit."),
        "uncertain": st.column_config.CheckboxColumn(
            help=f"Confidence under {reading.UNCERTAIN_BELOW:.0%}, the threshold chosen on MNIST's validation "
                 "digits (above it 999 in 1000 of the default model's readings are right): worth a second look."),
        "correct": st.column_config.CheckboxColumn()})
    if flagged or report.rejected:
        st.caption(f"{flagged} uncertain reading(s) and {report.rejected} image(s) that are not a {noun}.")
    csv_table = pd.DataFrame(rows)  # the skipped files too, with their reason
    if not names:
        csv_table = csv_table.astype({"label": "Int64"})
    csv = csv_table.to_csv(index=False)
    st.download_button("Download results (CSV)", csv, file_name=f"batch-{model.name}.csv", mime="text/csv",
                       icon=":material/download:", key="batch_csv")
    exports.report_button("batch_html", key, lambda: html_report.batch_html(report), f"batch-{model.name}.html",
                          "report (HTML)")

    if report.n:
        st.subheader(f"Mistakes ({len(report.mistakes)})")
        if not report.mistakes:
            st.success("Every labelled image was read correctly.")
        elif report.inputs is not None:
            shown = report.mistakes[:MISTAKES_SHOWN]  # the core's order: most confident first, then the refusals
            st.image([pictures.crisp(report.inputs[m.index], 3) for m in shown], width=84,
                     caption=[f"{m.file}: {m.label}→" + (f"{m.prediction} ({m.confidence:.0%})"
                                                          if m.prediction is not None else f"not a {noun}")
                              for m in shown])
            st.caption("The preprocessed input of each misread image, most confident mistakes first: "
                       f"file: true {noun}→prediction (confidence).")

for note in report.notes:
    st.caption(note)
if skipped:
    st.subheader(f"Skipped files ({len(skipped)})")
    st.dataframe(pd.DataFrame(skipped), hide_index=True, key="batch_skipped")

if report.n and not names:  # labelled digits were read: they can be taught
    finetune_panel.teach_section(model, files)
