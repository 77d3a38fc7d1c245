"""Models page exports and the HTML report buttons (Models and Batch pages)."""

from mnist_core.models import store as store_mod
from tests.hostile.digits import digit_image, encode

from .conftest import open_page, texts


def _download(at, label):
    [button] = [b for b in at.download_button if b.label == label]
    return button


def test_each_format_is_exported_on_click_then_offered(store):
    at = open_page("models")
    at.selectbox(key="models_pick").select("flat").run()
    assert not [b for b in at.download_button if b.label.startswith("Download ONNX")]  # nothing exported yet
    at.button(key="export_onnx").click().run()
    assert not at.exception and not at.error
    assert _download(at, "Download ONNX").proto.label == "Download ONNX"
    assert "onnxruntime" in texts(at) and "same class on every image of 1,000 test images" in texts(at)
    assert store_mod.read_card("flat")["exports"]["onnx"]["same_class"] == 1000
    at.button(key="export_savedmodel").click().run()  # both stay offered
    labels = {b.label for b in at.download_button}
    assert {"Download ONNX", "Download TF SavedModel (.zip)"} <= labels and not at.exception


def test_lenet_exports_to_litert(store):
    at = open_page("models")
    at.selectbox(key="models_pick").select("default").run()
    at.button(key="export_litert").click().run()
    assert not at.exception and not at.error
    assert "ai-edge-litert" in texts(at) and _download(at, "Download LiteRT (.tflite)")


def test_comparison_report_is_prepared_then_downloaded(store):
    at = open_page("models")
    assert "Download comparison report (HTML)" not in {b.label for b in at.download_button}
    at.button(key="models_report_prepare").click().run()
    assert not at.exception and _download(at, "Download comparison report (HTML)")
    html = at.session_state["models_report"][1]
    assert html.startswith("<!DOCTYPE html>") and "<td>flat</td>" in html and "Plotly.newPlot" in html


def test_batch_report_button(store):
    at = open_page("batch")
    files = [(f"{d}_photo.png", encode(digit_image(d)), "image/png") for d in (1, 4, 7)]
    at.file_uploader(key="batch_files").set_value(files).run()
    at.button(key="batch_html_prepare").click().run()
    assert not at.exception and _download(at, "Download report (HTML)")
    html = at.session_state["batch_html"][1]
    assert "of 3 labelled images" in html and "1_photo.png" in html
