"""Self-contained HTML reports: what they show, that they need no network, that outside text is escaped."""

import re

import numpy as np
import pytest

from mnist_core.analysis import report as rp
from mnist_core.handwriting import reading
from tests.hostile.digits import digit_image, encode, template_model

HOSTILE = "<img src=x onerror=alert(1)>.png"  # no slash: it is a file name


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Right digits, one mislabelled with a hostile file name, a blank image and a broken file."""
    root = tmp_path_factory.mktemp("report-batch")
    for d in range(10):
        (root / str(d)).mkdir()
        (root / str(d) / f"d{d}.png").write_bytes(encode(digit_image(d)))
    (root / "3" / HOSTILE).write_bytes(encode(digit_image(7)))
    (root / "5" / "blank.png").write_bytes(encode(digit_image(5, ink=245)))
    (root / "5" / "broken.png").write_bytes(b"not an image")
    return reading.evaluate_images(template_model(), root, keep_inputs=True, parallel=False)


def _scripts(html):
    return re.findall(r"<script[^>]*>", html)


def test_batch_report_shows_everything_and_needs_no_network(batch, tmp_path):
    html = rp.batch_html(batch)
    wrong = list(batch.mistakes)
    assert wrong and any(m.file.endswith(HOSTILE) for m in wrong)
    lo, hi = batch.ci95
    assert f"Accuracy {batch.accuracy:.2%} ({batch.correct} of {batch.n}" in html
    assert f"{lo:.2%} to {hi:.2%}" in html
    assert html.count('<figure><img alt=') == len(wrong)  # every mistake with its image
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in html and "<img src=x" not in html
    for skipped in batch.skipped:  # every skipped file and why
        assert f"<td>{skipped['file']}</td>" in html and skipped["reason"].split("(")[0][:30] in html
    assert html.count("Plotly.newPlot") == 2  # confusion matrix and per-class metrics
    assert not any("src=" in tag for tag in _scripts(html))  # plotly.js is inline, no script is fetched
    assert "Per class" in html and html.count("<tr>") >= 10
    path = rp.write(html, tmp_path / "out" / "batch.html")
    assert path.read_text(encoding="utf-8") == html and [p.name for p in path.parent.iterdir()] == ["batch.html"]


def test_unlabelled_batch_has_predictions_but_no_accuracy(tmp_path):
    (tmp_path / "a.png").write_bytes(encode(digit_image(4)))
    result = reading.evaluate_images(template_model(), tmp_path, keep_inputs=True, parallel=False)
    html = rp.batch_html(result)
    assert "No labelled images: 1 images predicted" in html and "Plotly.newPlot" not in html
    assert "<td>a.png</td>" in html and "No file was skipped." in html


def test_test_set_report_finds_mistake_images_by_index():
    from mnist_core.analysis.evaluate import summarize

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(30, 28, 28, 1)).astype(np.float32)
    y = np.arange(30) % 10
    probs = np.eye(10, dtype=np.float32)[y]
    probs[[3, 7]] = np.eye(10, dtype=np.float32)[[0, 0]]  # two mistakes
    summary = {**summarize(probs, y, mistakes_limit=None), "model": "m"}
    html = rp.batch_html(summary, inputs=x)
    assert html.count('<figure><img alt=') == 2 and "test image 3: 3 → 0 (100%)" in html
    assert "the MNIST test set" in html


def test_comparison_report_has_the_table_and_the_curves():
    cards = [
        {"name": "a", "kind": "cnn", "test_accuracy": 0.99, "params": 1000, "config": {"epochs": 2},
         "history": {"loss": [0.5, 0.2], "accuracy": [0.9, 0.95], "val_loss": [0.4, 0.3], "val_accuracy": [0.92, 0.96]},
         "exports": {"onnx": {"images": 1000, "same_class": 1000, "max_prob_diff": 3e-7}}},
        {"name": "b<i>", "kind": "mlp", "test_accuracy": 0.97, "params": 2000, "config": {"epochs": 1},
         "history": {"loss": [0.6], "accuracy": [0.8]}},
        {"name": "team", "kind": "ensemble", "test_accuracy": 0.991, "history": {}},
        {"name": "broken", "error": "model 'broken' has a corrupt card.json"},
    ]
    html = rp.comparison_html(cards)
    assert html.count("Plotly.newPlot") == 3  # accuracy bars, accuracy curves, loss curves
    assert "<td>99.00%</td>" in html and "b&lt;i&gt;" in html and "<i>" not in html
    assert "onnx (1000/1000 same class, max diff 3.0e-07)" in html
    assert "Unreadable models" in html and "corrupt card.json" in html
    assert '"a (validation)"' in html and '"b&lt;i&gt; (train)"' not in html  # names in figures go as JSON data
    assert html.index("<td>team</td>") < html.index("<td>a</td>")  # best test accuracy first


def test_writing_into_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        rp.write("<html></html>", tmp_path)
