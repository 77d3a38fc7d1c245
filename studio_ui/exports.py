"""Download buttons for exports and HTML reports, prepared only when asked.

Exporting takes seconds and a report inlines plotly.js (megabytes), so
neither is built on every rerun: a button prepares the file once (kept in
the session, keyed by what it was made from) and a download button appears.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from mnist_core.models import export as export_mod
from mnist_core.models import store

LABELS = {"onnx": "ONNX", "litert": "LiteRT (.tflite)", "savedmodel": "TF SavedModel (.zip)", "keras": "Keras (.keras)"}
EXPORTS_KEY = "export_files"


def export_buttons(name: str) -> None:
    """One button per format; each exports `name`, checks it on MNIST test images, then offers the file."""
    # Keyed by the card's creation time, not the files' mtime: each export rewrites the card.
    stamp = store.read_card(name).get("created")
    ready = st.session_state.get(EXPORTS_KEY)
    if not ready or ready[0] != (name, stamp):
        ready = st.session_state[EXPORTS_KEY] = ((name, stamp), {})
    files = ready[1]
    for column, fmt in zip(st.columns(len(LABELS)), LABELS):
        if fmt in files:
            data, file_name, report = files[fmt]
            column.download_button(f"Download {LABELS[fmt]}", data, file_name=file_name,
                                   mime="application/octet-stream", icon=":material/download:", key=f"dl_{fmt}")
            column.caption(_figures(report))
        elif column.button(f"Export {LABELS[fmt]}", key=f"export_{fmt}", icon=":material/ios_share:"):
            with st.spinner(f"Exporting '{name}' as {LABELS[fmt]} and checking it on 1,000 test images..."):
                try:
                    files[fmt] = _export(name, fmt)
                except Exception as exc:  # noqa: BLE001 - a converter's failure is shown, never a crash
                    column.error(f"Export to {LABELS[fmt]} failed: {exc}")
                    continue
            st.rerun()


def _export(name: str, fmt: str) -> tuple[bytes, str, dict]:
    with tempfile.TemporaryDirectory(prefix="mnist-export-") as tmp:
        out = Path(tmp) / export_mod.default_path(name, fmt).name
        report = export_mod.export(name, fmt, out)
        if out.is_dir():  # a SavedModel is a folder: offered as one ZIP
            return _zip(out), f"{out.name}.zip", report
        return out.read_bytes(), out.name, report


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, (Path(folder.name) / path.relative_to(folder)).as_posix())
    return buf.getvalue()


def _figures(report: dict) -> str:
    same = "same class on every image" if report["all_same_class"] else \
        f"**different class on {report['images'] - report['same_class']} images**"
    return (f"{report['runtime']}: {same} of {report['images']:,} test images; largest probability "
            f"difference {report['max_prob_diff']:.1e}")


def report_button(key: str, fingerprint, build, file_name: str, label: str = "HTML report") -> None:
    """A 'Prepare' button that calls build() -> HTML once per fingerprint, then a download button."""
    cached = st.session_state.get(key)
    if cached and cached[0] == fingerprint:
        st.download_button(f"Download {label}", cached[1], file_name=file_name, mime="text/html",
                           icon=":material/download:", key=f"{key}_download",
                           help="One HTML file with interactive charts and images; opens in any browser, offline.")
    elif st.button(f"Prepare {label}", key=f"{key}_prepare", icon=":material/description:"):
        with st.spinner("Building the report..."):
            st.session_state[key] = (fingerprint, build())
        st.rerun()
