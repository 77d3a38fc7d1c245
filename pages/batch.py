"""Batch: score uploaded photos or a ZIP of real handwriting with the active model."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.analysis import report as html_report
from mnist_core.handwriting import reading
from mnist_core.handwriting.collection import Limits

from mnist_core.models import store
from mnist_core.handwriting.decode import ImageError
from studio_ui import charts, exports, pictures, routing, state

routing.ensure_router()

REPORT_KEY = "batch_report"
UPLOAD_MB = Limits().max_total_bytes // 2**20  # what the reader accepts; .streamlit/config.toml agrees (tested)
MISTAKES_SHOWN = 48

st.title("Batch")
model = state.require_model("score uploaded images")
st.markdown(
    "Upload photos or scans of handwritten digits, or one ZIP of them. Labels are read from a folder per "
    "digit (`7/photo.jpg`) or a name that starts with the digit (`7_photo.png`); unlabelled images get "
    "predictions only. Each image is turned into MNIST's format before the model reads it."
)
uploads = st.file_uploader("Images or a ZIP", accept_multiple_files=True, key="batch_files",
                           max_upload_size=UPLOAD_MB,
                           help=f"PNG, JPEG, GIF, BMP, TIFF or WebP images, or a .zip of them: up to {UPLOAD_MB} MB "
                                "per file and in all, as the collection reader accepts.")
if not uploads:
    st.info(f"Nothing uploaded yet. The active model **{model.name}** will read the images.")
    st.stop()


def _fingerprint(files) -> str:
    digest = hashlib.sha256(f"{model.name}:{store.modified(model.name)}".encode())
    for f in files:
        digest.update(f.name.encode() + b"\0" + hashlib.sha256(f.getvalue()).digest())
    return digest.hexdigest()


def _evaluate(files) -> dict:
    bar = st.progress(0.0, text="Reading the images...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text=f"Read {done} of {total} images")

    # A ZIP among the uploads is opened and read entry by entry by the collection reader.
    report = reading.evaluate_images(model, [(f.name, f.getvalue()) for f in files], progress=progress,
                                         keep_inputs=True)
    bar.empty()
    return report


key = _fingerprint(uploads)
cached = st.session_state.get(REPORT_KEY)
if cached is None or cached[0] != key:
    try:
        st.session_state[REPORT_KEY] = cached = (key, _evaluate(uploads))
    except (ImageError, ValueError, OSError) as exc:
        st.error(f"These files could not be read: {exc}")
        st.stop()
report = cached[1]

preds = report["predictions"]
skipped = report.get("skipped") or []
if not preds:
    st.warning("None of the uploaded files held a usable image of a digit." +
               (" See the skipped files below." if skipped else ""))
else:
    c1, c2, c3, c4 = st.columns(4)
    if report.get("accuracy") is not None:
        c1.metric("Accuracy", f"{report['accuracy']:.1%}")
        c2.metric("Correct", f"{report['correct']} of {report['n']}")
    else:
        c1.metric("Accuracy", "no labels")
        c2.metric("Images read", len(preds))
    c3.metric("Skipped files", len(skipped))
    c4.metric("Model", model.name)

    labelled = [p for p in preds if p.get("label") is not None]
    inputs = report.get("inputs")
    if labelled:
        st.subheader("Confusion matrix")
        st.plotly_chart(charts.confusion(np.asarray(report["confusion"])), config={"displayModeBar": False},
                        key="batch_cm")

    st.subheader("Every image")
    table = pd.DataFrame([{
        "input": pictures.data_url(inputs[i]) if inputs is not None and i < len(inputs) else None,
        "file": p["file"], "label": p.get("label"), "prediction": p.get("number") or p.get("prediction"),
        "confidence": p.get("confidence"), "correct": p.get("correct"),
    } for i, p in enumerate(preds)])
    st.dataframe(table, hide_index=True, key="batch_table", column_config={
        "input": st.column_config.ImageColumn("model input", help="The preprocessed 28x28 image the model read."),
        "confidence": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        "correct": st.column_config.CheckboxColumn()})
    csv = table.drop(columns=["input"]).to_csv(index=False)
    st.download_button("Download results (CSV)", csv, file_name=f"batch-{model.name}.csv", mime="text/csv",
                       icon=":material/download:", key="batch_csv")
    exports.report_button("batch_html", key, lambda: html_report.batch_html(report), f"batch-{model.name}.html",
                          "report (HTML)")

    wrong = [i for i, p in enumerate(preds) if p.get("correct") is False]
    if labelled:
        st.subheader(f"Mistakes ({len(wrong)})")
        if not wrong:
            st.success("Every labelled image was read correctly.")
        elif inputs is not None:
            wrong = sorted(wrong, key=lambda i: -(preds[i].get("confidence") or 0))[:MISTAKES_SHOWN]
            st.image([pictures.crisp(inputs[i], 3) for i in wrong], width=84,
                     caption=[f"{preds[i]['file']}: {preds[i]['label']}→{preds[i]['prediction']} "
                              f"({preds[i]['confidence']:.0%})" for i in wrong])
            st.caption("The preprocessed input of each misread image, most confident mistakes first: "
                       "file: true digit→prediction (confidence).")

for note in report.get("notes") or []:
    st.caption(note)
if skipped:
    st.subheader(f"Skipped files ({len(skipped)})")
    st.dataframe(pd.DataFrame(skipped), hide_index=True, key="batch_skipped")
