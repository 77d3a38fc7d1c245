"""Batch page: a ZIP of real handwriting is scored; bad files are listed with reasons."""

import io
import zipfile
from pathlib import Path

import pytest

from mnist_core.handwriting.decode import ImageError
from tests.fixtures import HANDWRITING, handwriting_sources

from .conftest import frame_with, open_page, texts


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path in sorted(folder.rglob("*.jpg")):
            archive.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


@pytest.mark.parametrize("source", handwriting_sources(), ids=lambda path: path.name)
def test_a_zip_of_handwriting_is_scored(store, source):
    n = len(list(source.rglob("*.jpg")))
    at = open_page("batch")
    at.file_uploader(key="batch_files").set_value(("sample.zip", _zip(source), "application/zip")).run()
    assert not at.exception
    body = texts(at)
    assert "Accuracy: " in body and "Correct: " in body and f" of {n}" in body
    table = frame_with(at, "confidence")
    assert len(table) == n and set(table["label"]) == set(range(10))
    assert [b.label for b in at.download_button] == ["Download results (CSV)"]
    at.button(key="batch_html_prepare").click().run()  # the HTML report is built only when asked
    assert [b.label for b in at.download_button] == ["Download results (CSV)", "Download report (HTML)"]
    assert at.get("plotly_chart")  # the confusion matrix


def test_unusable_uploads_are_explained(store):
    at = open_page("batch")
    at.file_uploader(key="batch_files").set_value([("notes.txt", b"hello", "text/plain"),
                                                   ("3_broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")])
    at.run()
    assert not at.exception
    assert "None of the uploaded files held a usable image" in texts(at)
    skipped = frame_with(at, "reason")
    assert set(skipped["file"]) == {"notes.txt", "3_broken.png"}
    assert all(isinstance(r, str) and r for r in skipped["reason"])


def test_unlabelled_images_get_predictions_only(store):
    image = next(HANDWRITING.rglob("*.jpg")).read_bytes()
    at = open_page("batch")
    at.file_uploader(key="batch_files").set_value(("photo.jpg", image, "image/jpeg")).run()
    assert not at.exception
    assert "Accuracy: no labels" in texts(at)
    assert len(frame_with(at, "confidence")) == 1


@pytest.mark.parametrize("error, shown", [(ImageError, True), (ValueError, False)], ids=["user", "bug"])
def test_a_user_error_is_one_message_and_a_bug_is_not_hidden(store, monkeypatch, error, shown):
    from mnist_core.handwriting import reading

    def refuse(*args, **kwargs):
        raise error("the upload is 9 GB of pixels")

    monkeypatch.setattr(reading, "evaluate_images", refuse)
    at = open_page("batch")
    at.file_uploader(key="batch_files").set_value(("photo.png", b"\x89PNG", "image/png")).run()
    if shown:  # a UserError: one st.error that says what, and the page stops there
        assert [e.value for e in at.error] == ["These files could not be read: the upload is 9 GB of pixels"]
        assert not at.exception
    else:  # anything else is a bug: its traceback shows, no page dresses it up as the user's mistake
        assert at.exception and not at.error


def test_the_table_lists_files_in_order_with_blank_notes(store):
    from mnist_core.handwriting.collection import natural_key

    source = handwriting_sources()[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:  # the archive's own order: reversed
        for path in sorted(source.rglob("*.jpg"), reverse=True)[:12]:
            archive.write(path, path.relative_to(source).as_posix())
    at = open_page("batch")
    at.file_uploader(key="batch_files").set_value(("sample.zip", buf.getvalue(), "application/zip")).run()
    table = frame_with(at, "confidence")
    assert list(table["file"]) == sorted(table["file"], key=natural_key) != list(reversed(table["file"]))
    assert not table["note"].isna().any() and "None" not in set(table["note"])
