"""Drop an ONNX file on the Models page, see what was detected, save it, then Inspect says what it cannot show.

A server of its own, on a copy of the session's store: the import must not
change the store the other browser tests read.
"""

import shutil

import pytest

from tests.fixtures import make_imports as mi

from .conftest import problems, start_server, stop_server, wait_idle


@pytest.fixture
def own_server(chromium_path, browser_store, tmp_path):
    models, runs = tmp_path / "models", tmp_path / "runs"
    shutil.copytree(browser_store[0], models)
    proc, url = start_server(models, runs, tmp_path / "streamlit.log")
    yield url, models
    stop_server(proc)


def test_import_an_onnx_file_and_inspect_it(browser, own_server, tmp_path):
    url, models = own_server
    onnx_file = tmp_path / "torch_like.onnx"
    onnx_file.write_bytes(mi.onnx_bytes(mi.train_core(n=2000, epochs=2)))
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{url}/models")
        page.get_by_text("Import a model").click()
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(onnx_file))
        page.get_by_role("button", name="Detect").click()
        page.get_by_text("1x28x28 (channels first, as PyTorch)").wait_for()
        assert page.get_by_text("logits (softmax applied)").count() == 1
        wait_idle(page)
        assert not (models / "torch_like").exists()  # nothing saved before asking
        assert page.get_by_label("Save as").input_value() == "torch_like"  # from the file's name
        page.get_by_label("Save as").fill("torch-like")
        page.get_by_label("Save as").press("Enter")
        wait_idle(page)
        page.get_by_role("button", name="Save to the store").click()
        page.get_by_text("Imported 'torch-like' (onnx): test accuracy").wait_for()
        wait_idle(page)
        assert (models / "torch-like" / "model.onnx").read_bytes() == onnx_file.read_bytes()
        assert problems(page) == []

        page.get_by_role("link", name="Inspect").click()  # in-app: the session keeps the imported model active
        page.get_by_text("Model torch-like (imported (onnx))").wait_for()
        page.get_by_role("tab", name="Look inside").click()
        page.get_by_text("No saliency map, feature maps or filters: 'torch-like' is an ONNX file run by "
                         "onnxruntime").wait_for()
        page.get_by_role("tab", name="Layers").click()
        page.get_by_text("operator graph's nodes of").wait_for()
        wait_idle(page)
        assert problems(page) == []

        page.get_by_role("tab", name="Map").click()  # a click on a point shows that test image
        page.locator(".js-plotly-plot").first.wait_for()
        wait_idle(page)
        x, y, row = page.evaluate("""() => {
            const g = document.querySelector('.js-plotly-plot'), L = g._fullLayout, r = g.getBoundingClientRect();
            const t = g._fullData[3], i = 0;  // the first point labelled 3
            return [r.left + L.xaxis._offset + L.xaxis.l2p(t.x[i]), r.top + L.yaxis._offset + L.yaxis.l2p(t.y[i]),
                    t.customdata[i][0]];
        }""")
        page.mouse.click(x, y)
        page.get_by_text("1 chosen on the map").wait_for()
        wait_idle(page)
        caption = page.locator("[data-testid=stImageCaption]").all_inner_texts()
        assert len(caption) == 1 and caption[0].startswith(f"#{row} · 3 →")
        assert problems(page) == []
    finally:
        context.close()
