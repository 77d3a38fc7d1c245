"""Batch (issue 23 item 2): a photo refused as "not a digit" has its own column, so the headline, the confusion
matrix, the per-class table, the CSV and the HTML report all tell the same story. One test checks all five."""

import base64
import io
import json
import zipfile

import numpy as np
import pandas as pd

from mnist_core.analysis import report as html_report
from mnist_core.handwriting import reading
from tests.hostile.digits import digit_image, encode

from .conftest import frame_with, open_page

REFUSED = 3  # the first three images the detector sees are answered "not a digit"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for d in range(10):
            for w in (8, 16):
                archive.writestr(f"{d}/w{w}.png", encode(digit_image(d, width=w)))
    return buf.getvalue()


def _array(value) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array ({dtype, bdata, shape}) as plotly 6 writes numpy ones."""
    if isinstance(value, dict):
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.array(value)


def test_headline_matrix_per_class_csv_and_html_agree_when_photos_are_refused(store, monkeypatch):
    refused: dict = {}  # image bytes -> refused?: the same answer for an image however the calls group them

    def refuse_the_first(x):  # the detector's answer, fixed so the test knows how many images it refused
        for xi in x:
            refused.setdefault(xi.tobytes(), sum(refused.values()) < REFUSED)
        return ["not a digit: a test refusal" if refused[xi.tobytes()] else None for xi in x]

    monkeypatch.setattr(reading, "rejections", refuse_the_first)
    at = open_page("batch")
    at.file_uploader(key="batch_files").set_value(("digits.zip", _zip(), "application/zip")).run()
    assert not at.exception

    # The headline.
    shown = {m.label: m.value for m in at.metric}
    correct, n = (int(v) for v in shown["Correct"].split(" of "))
    assert n == 20

    # The matrix: rows true, columns the answer, the last one the refusals.
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    cm = _array(chart["text"])
    assert chart["x"] == [str(k) for k in range(10)] + ["not a digit"] and cm.shape == (10, 11)
    assert int(np.trace(cm[:, :10])) == correct and int(cm.sum()) == n and int(cm[:, 10].sum()) == REFUSED

    # The per-class table on the page.
    per_class = frame_with(at, "recall")
    assert list(per_class["images"]) == list(cm.sum(axis=1)) and list(per_class["not a digit"]) == list(cm[:, 10])
    assert round(float((per_class["recall"] / 100 * per_class["images"]).sum())) == correct  # recall in %

    # The CSV the page offers and the HTML report, built from the same report.
    report = at.session_state["batch_report"][1]
    csv = pd.read_csv(io.StringIO(pd.DataFrame(report.rows()).to_csv(index=False)))
    labelled = csv[csv["label"].notna()]
    assert len(labelled) == n and int(labelled["correct"].astype(bool).sum()) == correct
    assert int((labelled["prediction"] == "not a digit").sum()) == REFUSED
    html = html_report.batch_html(report)
    assert f"({correct} of {n} labelled images" in html
    assert '"not a digit"]' in html  # the matrix's last column
    assert "<th>not a digit</th>" in html  # the per-class table's refusals
