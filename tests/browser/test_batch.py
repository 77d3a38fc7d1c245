"""Uploading the real-handwriting sample as a ZIP shows accuracy and offers the CSV."""

import csv
import io
import zipfile
from pathlib import Path

import pytest

from tests.fixtures import handwriting_sources

from .conftest import problems, wait_idle


@pytest.fixture(params=handwriting_sources(), ids=lambda path: path.name)
def sample_zip(request, tmp_path) -> tuple[Path, int]:
    """A ZIP of labelled handwriting (the committed fixture; the shared real photos too when here) and its size."""
    source, path = request.param, tmp_path / "handwriting.zip"
    images = sorted(source.rglob("*.jpg"))
    with zipfile.ZipFile(path, "w") as archive:
        for image in images:
            archive.write(image, image.relative_to(source).as_posix())
    return path, len(images)


def test_upload_a_zip_and_download_the_results(page, sample_zip):
    sample_zip, n = sample_zip
    page.goto(f"{page.base_url}/batch")
    page.get_by_text("Nothing uploaded yet").wait_for()
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(sample_zip))
    download = page.get_by_role("button", name="Download results (CSV)")
    download.wait_for(timeout=120_000)
    wait_idle(page)
    metrics = page.locator("[data-testid=stMetric]").all_inner_texts()
    accuracy = next(m for m in metrics if m.startswith("Accuracy"))
    assert accuracy.strip().endswith("%")
    assert any(m.startswith("Correct") and m.strip().endswith(f"of {n}") for m in metrics)
    assert problems(page) == []

    with page.expect_download() as info:
        download.click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(rows) == n
    assert set(rows[0]) == {"file", "label", "prediction", "confidence", "uncertain",
                             "correct", "status", "note"}
    assert {r["label"] for r in rows} == {str(d) for d in range(10)}
