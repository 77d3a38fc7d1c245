"""Models page, "Import a model": upload, see what was detected, save; then Inspect on the imported model."""

import pytest

from mnist_core.models import loading
from mnist_core.models import store as store_mod
from tests.fixtures import make_imports as mi

from .conftest import frame_with, open_page, texts


@pytest.fixture(scope="module")
def onnx_file() -> bytes:
    return mi.onnx_bytes(mi.train_core(n=2000, epochs=2))


def _upload(at, name: str, data: bytes):
    at.session_state["import_open"] = True  # what a click on the expander does
    at.run()
    at.file_uploader(key="import_file_0").set_value((name, data, "application/octet-stream")).run()
    return at


def test_import_an_onnx_file_shows_what_was_detected_then_saves_it(store, onnx_file):
    at = _upload(open_page("models"), "Torch Like.onnx", onnx_file)
    assert not at.table or "found" not in at.table[0].value.columns  # nothing detected before asking
    at.button(key="import_detect").click().run()
    found = frame_with(at, "found")
    assert found.loc["input", "found"] == "1x28x28 (channels first, as PyTorch)"
    assert found.loc["input", "how"] == "from the input shape"
    assert found.loc["scale", "found"].startswith("pixels normalised with MNIST's mean")
    assert found.loc["scale", "how"].startswith("scored best: ")
    assert found.loc["outputs", "found"] == "logits (softmax applied)"
    candidates = frame_with(at, "log loss")
    assert len(candidates) == 6 and candidates.iloc[0]["scale"] == "mnist-norm"
    assert store_mod.list_names() == ["default", "flat"]  # detecting writes nothing

    assert at.text_input(key="import_name").value == "torch-like"
    at.button(key="import_save").click().run()
    assert store_mod.list_names() == ["default", "flat", "torch-like"]
    card = store_mod.read_card("torch-like")
    assert card["backend"] == "onnx" and card["convention"]["scale"] == "mnist-norm"
    assert f"Imported 'torch-like' (onnx): test accuracy {card['test_accuracy']:.2%}" in texts(at)
    assert at.session_state["active_model"] == "torch-like"
    table = at.dataframe[0].value.set_index("name")
    assert table.loc["torch-like", "kind"] == "imported (onnx)"
    assert "Export ONNX" not in [b.label for b in at.button]  # it runs only in onnxruntime: said instead
    assert "runs it but cannot convert it" in texts(at)


def test_a_flag_overrides_the_guess(store, onnx_file):
    at = _upload(open_page("models"), "net.onnx", onnx_file)
    at.selectbox(key="import_scale").select("0-1").run()
    at.button(key="import_detect").click().run()
    found = frame_with(at, "found")
    assert found.loc["scale", "how"] == "set by flag"
    assert found.loc["polarity", "how"].startswith("scored")


def test_a_bad_file_is_refused_with_its_reason_and_nothing_saved(store):
    at = _upload(open_page("models"), "notes.onnx", b"this is not a model")
    at.button(key="import_detect").click().run()
    assert "Not imported: cannot import 'notes.onnx': its name says an ONNX file, but it is text. Nothing was saved." \
        in texts(at)
    assert "import_save" not in [b.key for b in at.button]
    assert store_mod.list_names() == ["default", "flat"]


def test_inspect_says_what_an_onnx_import_cannot_show_and_lists_its_nodes(store, onnx_file, tmp_path):
    from mnist_core.models import importing

    path = tmp_path / "net.onnx"
    path.write_bytes(onnx_file)
    importing.import_model(path, "net")
    at = open_page()
    at.sidebar.selectbox[0].select("net").run()
    open_page("inspect", at)
    assert "Model **net** (imported (onnx))" in texts(at)
    at.session_state["insp_view"] = "Look inside"
    at.run()
    body = texts(at)
    assert "No saliency map, feature maps or filters: 'net' is an ONNX file run by onnxruntime" in body
    assert len(at.get("plotly_chart")) == 2  # the input and its probabilities: predictions work
    at.session_state["insp_view"] = "Layers"
    at.run()
    layers = frame_with(at, "parameters")
    assert list(layers["type"]) == ["Flatten", "Gemm", "Relu", "Gemm"]
    assert layers["parameters"].sum() == loading.load("net").count_params()
    assert "operator graph's nodes of **net**" in texts(at)


def test_layers_tab_of_a_studio_model_adds_up(store):
    at = open_page("inspect")
    at.session_state["insp_view"] = "Layers"
    at.run()
    layers = frame_with(at, "parameters")
    assert layers["parameters"].sum() == loading.load("default").count_params()
    assert (layers["Look inside"] != "").sum() == 2  # LeNet-5's two convolutions, named as on Look inside


def test_batch_reads_handwriting_with_an_onnx_import(store, onnx_file, tmp_path):
    """Batch, like every page built on predictions, works unchanged on an imported ONNX model."""
    import io
    import zipfile

    from mnist_core.models import importing
    from tests.fixtures import HANDWRITING

    path = tmp_path / "net.onnx"
    path.write_bytes(onnx_file)
    importing.import_model(path, "net")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for image in sorted(HANDWRITING.rglob("*.jpg")):
            archive.write(image, image.relative_to(HANDWRITING).as_posix())
    at = open_page()
    at.sidebar.selectbox[0].select("net").run()
    open_page("batch", at)
    at.file_uploader(key="batch_files").set_value(("sample.zip", buf.getvalue(), "application/zip")).run()
    assert not at.exception
    assert "Accuracy: " in texts(at)
    assert len(frame_with(at, "confidence")) == len(list(HANDWRITING.rglob("*.jpg")))
