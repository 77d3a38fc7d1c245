"""Batch: read filled-in collection sheets (photos, scans, a ZIP of them, or the camera) into a labelled collection.

Each photo is read by mnist_core.handwriting.sheets (markers, squaring up,
boxes cut); the page shows each sheet squared up with its boxes outlined and
every cut under its label, takes a writer name and spoiled boxes, and hands
the Batch page an ordinary collection [(label/sheet-r0c3.png, bytes)] to
evaluate and teach like any upload.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

import streamlit as st

from mnist_core import tasks
from mnist_core.handwriting import sheet_reading, sheets
from mnist_core.handwriting.collection import Limits, read_collection

SPOILED = "sheets_spoiled"  # {sheet digest: [box, ...]}, kept while another sheet is shown
WRITERS = "sheets_writers"  # {sheet digest: writer name}
UPLOAD_MB = Limits().max_total_bytes // 2**20


@st.cache_data(max_entries=128, show_spinner=False)
def _read(name: str, sheet: str, data: bytes) -> sheet_reading.SheetRead:
    return sheet_reading.read_sheet(data, name, sheet=sheet)


@st.cache_data(max_entries=4, show_spinner=False)
def blank_sheet(prompt: str) -> bytes:
    """The default 10x10 sheet for a task, as a PDF."""
    return sheets.pdf_bytes(sheets.render(sheets.SheetSpec(prompt=prompt)))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def collection(model_task: str) -> list | None:
    """The sheets' filled boxes as [(name, PNG bytes)] for evaluate_images; None before anything is given."""
    noun = tasks.get(model_task).noun
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.markdown(f"Print a sheet, have each writer fill it in (one {noun} per box, its label printed above it), "
                  "then photograph or scan the sheets and drop the pictures here. The corner squares let the "
                  "studio square each page up and cut out every box, filed under the box's label.")
    right.download_button(f"Blank {model_task} sheet (PDF)", blank_sheet(model_task), f"sheet-{model_task}.pdf",
                          mime="application/pdf", icon=":material/print:", key="sheets_blank")
    uploads = st.file_uploader("Photos or scans of filled-in sheets, or a ZIP of them", accept_multiple_files=True,
                               key="batch_sheet_files", max_upload_size=UPLOAD_MB,
                               help="JPEG or PNG photos from a phone, flatbed scans, or one .zip of them. Other sizes "
                                    "of sheet: `python -m mnist_core sheet --rows 8 --cols 5 --out sheet.pdf`.")
    files = [(f.name, f.getvalue()) for f in uploads or []]
    if st.toggle("Use the camera", key="batch_sheet_camera_on",
                 help="Photograph a filled-in sheet with the webcam or the phone's camera; each photo taken is "
                      "added to the sheets below until the page is reloaded."):
        shot = st.camera_input("Photograph a filled-in sheet: the whole page, flat, four corner squares in view",
                               key="batch_sheet_camera")
        shots = st.session_state.setdefault("sheets_camera_shots", {})
        if shot is not None:
            data = shot.getvalue()
            shots.setdefault(_digest(data), data)
        files += [(f"camera-{k + 1}.jpg", data) for k, data in enumerate(shots.values())]
    if not files:
        st.info("No sheets yet: upload photos or scans of filled-in sheets, or take a photo with the camera.")
        return None

    coll = read_collection(files)
    names = sheet_reading.sheet_names([it.file for it in coll.items])
    with st.spinner(f"Reading {len(coll.items)} sheet(s)..."):
        reads = [(_digest(it.data), _read(it.file, name, it.data)) for it, name in zip(coll.items, names)]
    good = [(d, r) for d, r in reads if r.reason is None and r.spec.prompt == model_task]
    other = [r for _, r in reads if r.reason is None and r.spec.prompt != model_task]
    failed = [r for _, r in reads if r.reason is not None]
    spoiled_all = st.session_state.setdefault(SPOILED, {})
    writers = st.session_state.setdefault(WRITERS, {})

    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Sheets read", f"{len(good)} of {len(reads)}")
    c2.metric(f"{noun.capitalize()}s cut out", sum(len(r.filled) for _, r in good))
    c3.metric("Empty boxes skipped", sum(r.empty for _, r in good))
    c4.metric("Marked spoiled", sum(len(spoiled_all.get(d, ())) for d, _ in good))
    problems = [{"file": r.file, "reason": r.reason} for r in failed]
    problems += [{"file": r.file, "reason": f"a {r.spec.prompt} sheet: the active model reads {model_task}; "
                                            f"switch the task above to read it"} for r in other]
    problems += [{"file": s["file"], "reason": s["reason"]} for s in coll.skipped]
    if problems:
        st.warning(f"{len(problems)} file(s) not read as sheets; nothing of them is used:")
        st.dataframe(problems, hide_index=True, key="sheets_problems")
    if not good:
        return []

    labels = {f"{r.sheet} ({r.file})" if r.sheet != sheet_reading.sheet_name(r.file) else r.sheet: (d, r)
              for d, r in good}
    chosen = st.selectbox("Sheet", list(labels), key="sheets_shown") if len(labels) > 1 else next(iter(labels))
    digest, read = labels[chosen]
    _sheet_view(digest, read, spoiled_all, writers, noun)

    out = []
    for d, r in good:
        out += sheet_reading.collection_files(r, writer=writers.get(d), spoiled=set(spoiled_all.get(d, ())))
    if out:
        st.download_button(f"Download the collection (ZIP, {len(out)} images)", _zip(out), "sheets-collection.zip",
                           mime="application/zip", icon=":material/download:", key="sheets_zip",
                           help="The cut boxes as label folders (writer/label/sheet-r0c3.png): the same files "
                                "`python -m mnist_core read-sheets` writes.")
    return out


def _sheet_view(digest: str, read: sheet_reading.SheetRead, spoiled_all: dict, writers: dict, noun: str) -> None:
    spoiled = set(spoiled_all.get(digest, ()))
    left, right = st.columns([2, 3])
    with left:
        st.image(sheet_reading.outlined(read, spoiled, scale=0.4),
                 caption=f"{read.file} squared up ({read.spec.rows}x{read.spec.cols}, {read.spec.paper.upper()}): "
                         "green boxes were written in, grey ones are empty, red ones marked spoiled")
    with right:
        if read.writer_image is not None and read.writer_image.size:
            st.image(read.writer_image, caption="The writer field as written", width="stretch")
        st.text_input("Writer", value=writers.get(digest, ""), key=f"sheets_writer_{digest}",
                      on_change=_keep, args=(writers, digest, f"sheets_writer_{digest}"),
                      placeholder="Type the name above (optional)",
                      help="Files this sheet's boxes under writer/label/, so teaching can hold out whole writers.")
        filled = [c.box for c in read.filled]
        by_box = {c.box: c for c in read.filled}
        st.multiselect("Spoiled boxes (left out)", filled, default=[b for b in filled if b in spoiled],
                       key=f"sheets_spoiled_{digest}", format_func=lambda b: f"{b} (a {by_box[b].label})",
                       on_change=_keep_list, args=(spoiled_all, digest, f"sheets_spoiled_{digest}"),
                       help="A box crossed out, written twice, or holding the wrong thing: leave it out of the "
                            "collection. Boxes are named by row and column from the top left (r0c0).")
        st.caption(f"{len(read.filled)} {noun}(s) cut out, {read.empty} empty box(es) skipped; the page's corner "
                   f"markers fit a flat sheet to {read.fit_mm:.2f} mm.")
    st.markdown(f"**Each cut {noun} under its label** (as the model will get it, before preprocessing)")
    for label in read.spec.classes():
        cuts = [c for c in read.filled if c.label == str(label)]
        if not cuts:
            continue
        a, b = st.columns([1, 11], vertical_alignment="center")
        a.markdown(f"**{label}**")
        b.image([c.image if c.box not in spoiled else _crossed(c.image) for c in cuts], width=52,
                caption=[c.box + (" spoiled" if c.box in spoiled else "") for c in cuts])


def _crossed(image):
    import cv2

    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    h, w = image.shape
    cv2.line(rgb, (0, 0), (w - 1, h - 1), (220, 40, 40), max(2, w // 20))
    cv2.line(rgb, (w - 1, 0), (0, h - 1), (220, 40, 40), max(2, w // 20))
    return rgb


def _keep(store: dict, digest: str, key: str) -> None:
    store[digest] = sheet_reading.safe_name(st.session_state.get(key))


def _keep_list(store: dict, digest: str, key: str) -> None:
    store[digest] = list(st.session_state.get(key) or [])


def _zip(files: list) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()
