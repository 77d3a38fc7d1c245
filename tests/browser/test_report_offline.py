"""A report opened from disk in Chromium with the network off: the charts render, the images load."""

import pytest

from mnist_core.analysis import report as rp
from mnist_core.handwriting import reading
from tests.hostile.digits import digit_image, encode, template_model


@pytest.fixture
def offline(browser):
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 1600})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    requests = []
    tab.on("request", lambda r: requests.append(r.url))
    yield tab, requests
    context.close()


def _open(tab, path):
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(path.as_uri())
    tab.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    return errors


def test_batch_report_renders_offline(offline, tmp_path):
    tab, requests = offline
    folder = tmp_path / "photos"
    for d in range(10):
        (folder / str(d)).mkdir(parents=True)
        (folder / str(d) / f"d{d}.png").write_bytes(encode(digit_image(d)))
    (folder / "2" / "seven.png").write_bytes(encode(digit_image(7)))
    (folder / "broken.png").write_bytes(b"not an image")
    result = reading.evaluate_images(template_model(), folder, keep_inputs=True, parallel=False)
    path = rp.write(rp.batch_html(result), tmp_path / "batch.html")

    errors = _open(tab, path)
    tab.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 2 && "
                          "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2")
    assert tab.locator(".js-plotly-plot .heatmaplayer").count() == 1  # the confusion matrix drew
    assert tab.locator(".js-plotly-plot .barlayer .point").count() == 30  # 3 metrics x 10 classes
    loaded = tab.evaluate("Array.from(document.querySelectorAll('figure img')).map(i => i.complete && i.naturalWidth)")
    assert loaded == [84]  # the one mistake's 28x28 input, scaled 3x, decoded from its data URI
    assert "broken.png" in tab.inner_text("body")
    assert errors == [] and all(u.startswith(("file:", "data:")) for u in requests), requests


def test_comparison_report_renders_offline(offline, tmp_path):
    tab, requests = offline
    cards = [{"name": f"m{i}", "kind": "cnn", "test_accuracy": 0.95 + i / 100,
              "history": {"loss": [0.5, 0.3], "accuracy": [0.9, 0.93], "val_loss": [0.4, 0.35],
                          "val_accuracy": [0.91, 0.94 + i / 100]}} for i in range(3)]
    path = rp.write(rp.comparison_html(cards), tmp_path / "models.html")
    errors = _open(tab, path)
    tab.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
    assert tab.locator(".js-plotly-plot").count() == 3
    assert tab.locator(".js-plotly-plot .scatterlayer .trace").count() == 12  # 3 models x train/val x 2 charts
    assert errors == [] and all(u.startswith(("file:", "data:")) for u in requests), requests
