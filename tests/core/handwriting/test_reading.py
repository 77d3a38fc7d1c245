"""Reading real handwriting with a model: numbers, collections, reports.

Most tests use a template-matching NumpyNet (tests.hostile.digits.template_net):
no training, yet predictions that are right for the synthetic digits, so
wrong plumbing (order, labels, alignment) shows up as wrong answers.
"""

import dataclasses
import json

import numpy as np
import pytest

from mnist_core.handwriting import reading as hw
from mnist_core.models import loading
from tests.conftest import REPO
from tests.fixtures import handwriting_sources
from tests.hostile.digits import digit_image, encode, number_image, template_model


@pytest.fixture(scope="module")
def model():
    return template_model()


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    """Labelled digits in three pen widths, two unlabelled ones, a blank and a broken file."""
    root = tmp_path_factory.mktemp("batch")
    for d in range(10):
        (root / str(d)).mkdir()
        for w in (4, 12, 26):
            (root / str(d) / f"w{w}.png").write_bytes(encode(digit_image(d, width=w)))
    (root / "loose_a.png").write_bytes(encode(digit_image(6)))
    (root / "loose_b.jpg").write_bytes(encode(number_image([4, 2]).convert("RGB"), "JPEG"))
    (root / "5" / "blank.png").write_bytes(encode(digit_image(5, ink=245)))
    (root / "5" / "broken.png").write_bytes(b"not an image")
    return root


def test_read_image_reads_a_number_left_to_right(model):
    result = hw.read_image(model, number_image([2, 0, 4, 5]))
    assert result.number == "2045"
    assert [d.prediction for d in result.digits] == [2, 0, 4, 5]
    assert all(0 <= d.confidence <= 1 and len(d.probs) == 10 for d in result.digits)
    assert [d.box[0] for d in result.digits] == sorted(d.box[0] for d in result.digits)
    assert len(result.prepared) == 4 and all(p.found and p.steps for p in result.prepared)
    assert json.loads(json.dumps(result.to_json()))["number"] == "2045"  # the CLI's form: all but the images


def test_read_image_without_ink(model):
    result = hw.read_image(model, np.zeros((280, 280, 4), np.uint8))  # an untouched canvas
    assert result.number is None and result.digits == ()
    assert result.prepared[0].reason == "no digit found" and result.prepared[0].steps


def test_evaluate_images_report(model, batch_dir):
    calls = []
    report = hw.evaluate_images(model, batch_dir, progress=lambda done, total: calls.append((done, total)))
    text = json.dumps(report.to_json())  # the CLI prints exactly this
    assert json.loads(text)["n"] == 30
    assert report.images == 32 and report.n == 30
    assert report.correct == sum(p.correct is True for p in report.predictions)
    assert report.accuracy == pytest.approx(report.correct / 30) and report.accuracy >= 0.9
    assert sum(map(sum, report.confusion)) == 30
    by_file = {p.file: p for p in report.predictions}
    assert by_file["7/w12.png"].label == 7 and by_file["7/w12.png"].prediction == 7
    assert by_file["loose_a.png"].label is None and by_file["loose_a.png"].correct is None
    assert by_file["loose_b.jpg"].number == "42"
    skipped = {s["file"]: s["reason"] for s in report.skipped}
    assert skipped == {"5/blank.png": "no digit found", "5/broken.png": skipped["5/broken.png"]}
    assert "not a readable image" in skipped["5/broken.png"]
    assert calls and calls[-1] == (33, 33)  # every readable file went through preprocessing
    assert report.inputs is None and report.probs is None  # arrays only when asked for


def test_keep_inputs_aligns_arrays_with_predictions(model, batch_dir):
    report = hw.evaluate_images(model, batch_dir, keep_inputs=True)
    assert report.inputs.shape == (32, 28, 28, 1) and report.probs.shape == (32, 10)
    again = model.predict_proba(report.inputs).argmax(axis=1)
    # a refused image keeps what the model would have said in its probabilities, not in its prediction
    answered = [(a, p.prediction) for a, p in zip(again.tolist(), report.predictions) if p.reason is None]
    assert len(answered) >= 30 and all(a == p for a, p in answered)
    assert np.allclose(report.probs.argmax(axis=1), again)


def test_unlabelled_collection_has_no_accuracy(model):
    uploads = [(f"img{i}.png", encode(digit_image(i))) for i in range(3)]
    report = hw.evaluate_images(model, uploads)
    assert report.accuracy is None and report.n == 0 and report.images == 3
    assert [p.prediction for p in report.predictions] == [0, 1, 2]
    assert "predictions only" in hw.format_report(report)


def test_worker_pool_gives_the_same_results_as_serial():
    named = [(f"{i}.png", encode(digit_image(i % 10, width=4 + i))) for i in range(40)]
    named.append(("bad.png", b"junk"))
    serial = hw.process_many(named, parallel=False)
    pooled = hw.process_many(named, parallel=True)
    hw.shutdown_pool()
    assert len(pooled) == len(serial) == 41
    for a, b in zip(serial[:-1], pooled[:-1]):
        assert np.array_equal(a["x"], b["x"])
    assert serial[-1] == pooled[-1] and "not a readable image" in serial[-1]["reason"]


def test_format_report_lists_mistakes_skips_and_notes(model, batch_dir):
    report = hw.evaluate_images(model, batch_dir)
    report = dataclasses.replace(report, mistakes=(hw.Mistake(0, "3/w4.png", 3, 8, 0.61),))
    text = hw.format_report(report)
    assert f"accuracy {report.accuracy:.4f}" in text and "confusion matrix" in text
    assert "3/w4.png: label 3, predicted 8 (0.61)" in text
    assert "5/blank.png: no digit found" in text and "loose_b.jpg: 42" in text


def test_predict_files(model, tmp_path):
    (tmp_path / "n.png").write_bytes(encode(number_image([7, 1])))
    (tmp_path / "blank.png").write_bytes(encode(digit_image(1, ink=245)))
    results = hw.predict_files(model, [tmp_path / "n.png", tmp_path / "blank.png", tmp_path / "none.png"])
    assert [r.number for r in results] == ["71", None, None]
    assert results[0].error is None and results[1].error == "no digit found"
    assert "no such file" in results[2].error
    assert json.loads(json.dumps([r.to_json() for r in results]))[0]["digits"][0]["prediction"] == 7
    text = hw.format_predictions(results)
    assert "n.png: 71" in text and "blank.png" in text and "no such file" in text


@pytest.mark.slow
@pytest.mark.parametrize("source", handwriting_sources(), ids=lambda path: path.name)
def test_shipped_model_reads_handwriting(source):
    """The repo's default model (trained on MNIST only) on photo-like digits (and the shared real photos)."""
    model = loading.load("default", root=REPO / "models")
    report = hw.evaluate_images(model, source)
    assert report.n == len(list(source.rglob("*.jpg")))
    assert report.accuracy >= 0.97, report.mistakes


def test_a_cards_task_is_the_loaded_models_task():
    """The Draw page learns a model's task from its card before loading it: the same Task either way."""
    from mnist_core import tasks

    assert tasks.of_card({"name": "s", "task": "shapes"}) is tasks.SHAPES_TASK and tasks.SHAPES_TASK.named
    assert tasks.of_card({"name": "d"}) is tasks.DIGITS_TASK and not tasks.DIGITS_TASK.named  # before tasks
    for name in ("default", "shapes"):
        card = json.loads((REPO / "models" / name / "card.json").read_text())
        model = loading.load(name, REPO / "models")
        assert tasks.of_card(card) is model.task and model.class_names == list(model.task.classes)
