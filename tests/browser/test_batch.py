"""Uploading the real-handwriting sample as a ZIP shows accuracy and offers the CSV."""

import csv
import io
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, problems, wait_idle

SAMPLE = REPO.parent / "shared" / "data" / "handwriting_sample"


@pytest.fixture
def sample_zip(tmp_path) -> Path:
    if not SAMPLE.is_dir():
        pytest.skip("the shared handwriting sample is not here")
    path = tmp_path / "handwriting_sample.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for image in sorted(SAMPLE.rglob("*.jpg")):
            archive.write(image, image.relative_to(SAMPLE).as_posix())
    return path


def test_upload_a_zip_and_download_the_results(page, sample_zip):
    page.goto(f"{page.base_url}/batch")
    page.get_by_text("Nothing uploaded yet").wait_for()
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(sample_zip))
    download = page.get_by_role("button", name="Download results (CSV)")
    download.wait_for(timeout=120_000)
    wait_idle(page)
    metrics = page.locator("[data-testid=stMetric]").all_inner_texts()
    accuracy = next(m for m in metrics if m.startswith("Accuracy"))
    assert accuracy.strip().endswith("%")
    assert any(m.startswith("Correct") and m.strip().endswith("of 100") for m in metrics)
    assert problems(page) == []

    with page.expect_download() as info:
        download.click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(rows) == 100
    assert set(rows[0]) == {"file", "label", "prediction", "confidence", "correct"}
    assert {r["label"] for r in rows} == {str(d) for d in range(10)}
