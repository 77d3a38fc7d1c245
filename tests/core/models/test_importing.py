"""Importing models from elsewhere: each format's round trip, the detected convention, every refusal.

The files come from tests/fixtures/make_imports.py: one small MLP trained
here on MNIST, written in five formats and five input conventions. Each
import, without flags, must find its file's convention and score exactly
what the file scores when fed its own convention through its own runtime.
"""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pytest

from mnist_core.cli import main
from mnist_core.models import convention, export, importing, loading, store
from tests.fixtures import make_imports as mi

FILES = list(mi.CONVENTIONS)


@pytest.fixture(scope="module")
def weights():
    return mi.train_core()


@pytest.fixture(scope="module")
def files(weights, tmp_path_factory):
    return mi.make_all(tmp_path_factory.mktemp("imports"), weights)


@pytest.fixture(scope="module")
def mnist_test():
    from mnist_core.analysis import testset

    return testset.load("digits")


def own_convention_probs(name: str, path, x: np.ndarray) -> np.ndarray:
    """The file's outputs for studio images, fed its own convention by hand, through its own runtime."""
    feed = mi.native(name, x)
    if name.endswith((".keras", ".h5")):
        import keras

        out = np.asarray(keras.saving.load_model(path, compile=False, safe_mode=True).predict(feed, verbose=0))
    elif name.endswith(".onnx"):
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        out = session.run(None, {session.get_inputs()[0].name: feed})[0]
    elif name.endswith(".tflite"):
        out = export.PREDICTORS["litert"](path, feed)
    else:
        import tensorflow as tf

        folder = path.parent / "channels_first_savedmodel"
        loaded = tf.saved_model.load(str(folder))
        out = np.asarray(loaded.serve(tf.constant(feed)))
    return convention.softmax(out) if mi.CONVENTIONS[name]["outputs"] == "logits" else np.asarray(out)


@pytest.mark.parametrize("name", FILES)
def test_each_format_is_detected_without_flags_and_scores_as_its_own_convention(name, files, store_root, mnist_test):
    path = files[name]
    model_name = name.split(".")[0].replace("_", "-")
    card = importing.import_model(path, model_name, root=store_root)

    assert card["convention"] == mi.CONVENTIONS[name]
    assert card["detection"]["chosen_by"]["input"] == "input shape"
    assert card["imported"] is True and card["backend"] == importing.BACKENDS[card["source"]["format"]]
    assert card["source"]["file"] == name
    assert card["source"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (store_root / model_name / store.FILES[card["backend"]]).is_file()
    if name.endswith((".keras", ".onnx", ".tflite")):  # stored as it came
        assert (store_root / model_name / store.FILES[card["backend"]]).read_bytes() == path.read_bytes()

    own = own_convention_probs(name, path, mnist_test.x)
    own_accuracy = float(np.mean(own.argmax(axis=1) == mnist_test.y))
    assert 0.8 < own_accuracy < 0.99
    assert card["test_accuracy"] == pytest.approx(own_accuracy, abs=2e-4)  # LiteRT may round an image differently
    model = loading.load(model_name, store_root)
    probs = model.predict_proba(mnist_test.x[:500])
    np.testing.assert_allclose(probs, own[:500], atol=1e-4)
    assert model.count_params() >= 25_450


def test_a_wrong_scale_scores_worse_and_the_margin_says_so(files, store_root):
    card = importing.import_model(files["keras_255_logits.keras"], "k255", root=store_root)
    rows = card["detection"]["candidates"]
    assert len(rows) == 6  # three scales, two polarities; the layout came from the shape
    chosen = max(rows, key=lambda r: r["accuracy"])
    assert (chosen["scale"], chosen["invert"]) == ("0-255", False)
    assert card["detection"]["margin"] == pytest.approx(
        chosen["accuracy"] - sorted(r["accuracy"] for r in rows)[-2], abs=1e-4)
    assert card["detection"]["margin"] > 0.2
    assert not card["detection"]["warnings"]


def test_an_accuracy_tie_goes_to_the_lower_log_loss(files, store_root):
    """A ReLU net fed pixels 255 times too bright often still picks the right class, with absurd confidence."""
    found = importing.detect(importing.open_file(files["flat_784.h5"]))
    by = {(r["scale"], r["invert"]): r for r in found.candidates}
    assert abs(by[("0-255", False)]["accuracy"] - by[("0-1", False)]["accuracy"]) <= importing.TIE
    assert by[("0-255", False)]["loss"] > by[("0-1", False)]["loss"]
    assert found.convention.scale == "0-1"


class _Scripted:
    """A stand-in runtime: calibrated scores on 0-1 pixels, and on 0-255 pixels absurdly confident ones that
    happen to get one more image right (within the tie), as an over-bright ReLU net's can."""

    def __init__(self, y: np.ndarray):
        self.y = y

    def run(self, native: np.ndarray) -> np.ndarray:
        n = len(native)
        bright, dark = float(native.max()) > 2, float(native.mean()) > 0.5 * float(native.max())
        right = np.zeros(n, bool)
        right[:90 + (1 if bright else 0)] = not dark  # 90% (91% when too bright); inverted: nothing right
        guess = np.where(right, self.y, (self.y + 1) % 10)
        logits = np.full((n, 10), -2.0, np.float32)
        logits[np.arange(n), guess] = 60.0 if bright else 2.0
        return np.full_like(logits, np.nan) if dark and bright else logits  # NaN where it breaks down


def test_a_close_accuracy_lead_with_a_much_worse_log_loss_loses():
    x = np.zeros((100, 28, 28, 1), np.float32)
    x[:, 10:18, 12:16] = 1.0  # some ink: inverting makes most pixels bright
    y = np.arange(100) % 10
    opened = importing.Opened("onnx", "onnx", {"file": "scripted.onnx"}, _Scripted(y), [784], [10],
                              None)
    found = importing.detect(opened, probe=(x, y, "100 scripted images"))
    by = {(r["scale"], r["invert"]): r for r in found.candidates}
    assert by[("0-255", False)]["accuracy"] == 0.91 and by[("0-1", False)]["accuracy"] == 0.90
    assert found.convention == convention.Convention("784", "0-1", False, "logits")
    assert found.margin == pytest.approx(-0.01)
    assert found.runner_up["scale"] == "0-255" and not found.warnings  # the log loss was far apart
    assert by[("0-255", True)]["loss"] is None  # NaN scores: no loss, and the card stays strict JSON
    json.dumps(found.to_dict(), allow_nan=False)
    assert [r["log loss"] is None for r in importing.candidate_rows(found.to_dict())].count(True) == 2


def test_flags_override_each_guess(files, store_root):
    card = importing.import_model(files["torch_like.onnx"], "forced", scale="0-1", invert=False, outputs="probs",
                                  root=store_root)
    assert card["convention"] == {"input": "1x28x28", "scale": "0-1", "invert": False, "outputs": "probs"}
    assert card["detection"]["chosen_by"] == {"input": "input shape", "scale": "flag", "invert": "flag",
                                              "outputs": "flag"}
    assert len(card["detection"]["candidates"]) == 1 and card["detection"]["margin"] is None
    assert any("not probabilities" in w for w in card["detection"]["warnings"])
    assert card["test_accuracy"] < 0.8  # the wrong scale, as asked


def test_an_input_flag_that_does_not_fit_the_shape_is_refused(files, store_root):
    with pytest.raises(importing.ImportRefused, match=r"--input 784 does not fit 'torch_like.onnx', whose input is "
                                                      r"shaped \(batch, 1, 28, 28\)"):
        importing.import_model(files["torch_like.onnx"], "x", input="784", root=store_root)
    assert store.list_names(store_root) == []


def test_imported_models_work_everywhere_predictions_are_enough(files, store_root):
    from mnist_core.models import ensembles

    for name in ("torch_like.onnx", "keras_255_logits.keras", "inverted_28x28.tflite"):
        importing.import_model(files[name], name.split(".")[0].replace("_", "-"), root=store_root)
    card = ensembles.create("mix", ["torch-like", "keras-255-logits", "inverted-28x28"], root=store_root)
    assert 0.8 < card["test_accuracy"] < 0.99
    onnx_model, keras_model = loading.load("torch-like", store_root), loading.load("keras-255-logits", store_root)
    assert "onnxruntime" in onnx_model.why_no_graph() and "no saliency" in onnx_model.why_no_graph()
    assert keras_model.why_no_graph() is None
    assert loading.load("mix", store_root).why_no_graph() == onnx_model.why_no_graph()
    with pytest.raises(export.ExportError, match="'torch-like' is an ONNX file run by onnxruntime"):
        export.export("torch-like", "keras", store_root.parent / "t.keras", root=store_root)


def test_a_keras_import_is_one_graph_for_saliency_and_its_export_keeps_the_stored_file(files, store_root, tmp_path):
    from mnist_core.analysis import explain

    importing.import_model(files["keras_255_logits.keras"], "k", root=store_root)
    stored = (store_root / "k" / "model.keras").read_bytes()
    model = loading.load("k", store_root)
    x = mi.native("flat_784.h5", np.zeros((1, 28, 28, 1)))  # any image; a blank one
    saliency = explain.saliency(model, x.reshape(28, 28, 1))
    assert saliency["map"].shape == (28, 28)
    report = export.export("k", "onnx", tmp_path / "k.onnx", root=store_root)
    assert report["all_same_class"] and report["recorded"]
    assert (store_root / "k" / "model.keras").read_bytes() == stored  # the original, not the adapted graph
    assert loading.load("k", store_root).predict_proba(x).shape == (1, 10)


# -- refusals: a clear message, and nothing written ---------------------------------------------

def _two_input_onnx(weights) -> bytes:
    import onnx
    from onnx import TensorProto, helper

    proto = onnx.load_model_from_string(mi.onnx_bytes(weights))
    proto.graph.input.append(helper.make_tensor_value_info("extra", TensorProto.FLOAT, ["batch", 1]))
    return proto.SerializeToString()


def _lambda_keras(path):
    import keras

    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda t: t * 2.0), keras.layers.Flatten(),
                      keras.layers.Dense(10)]).save(path)


def _zip(entries: dict) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


REFUSALS = {
    "rgb32.onnx": (lambda w, p: p.write_bytes(mi.onnx_bytes([np.zeros((3072, 32), np.float32), *w[1:]],
                                                            input_dims=("batch", 3, 32, 32))),
                   r"its input is shaped \(batch, 3, 32, 32\), which is not one 28x28 image; accepted: "
                   r"\(batch, 28, 28, 1\), \(batch, 1, 28, 28\), \(batch, 28, 28\), \(batch, 784\)"),
    "five.onnx": (lambda w, p: p.write_bytes(mi.onnx_bytes(w, outputs=5)),
                  r"its output is shaped \(batch, 5\); a digits model gives 10 class scores per image"),
    "two.onnx": (lambda w, p: p.write_bytes(_two_input_onnx(w)), r"it has 2 inputs \(input \(batch, 1, 28, 28\), "
                                                                 r"extra \(batch, 1\)\)"),
    "photo.onnx": (lambda w, p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200)),
                   "its name says an ONNX file, but it is a PNG image"),
    "notes.h5": (lambda w, p: p.write_text("just some text\n"),
                 "its name says a legacy Keras HDF5 file, but it is text"),
    "random.tflite": (lambda w, p: p.write_bytes(bytes(range(256)) * 4),
                      "its name says a LiteRT \\(TFLite\\) file, but it is binary data of an unknown kind"),
    "zip.keras": (lambda w, p: p.write_bytes(_zip({"weights.bin": b"0"})),
                  "its name says a Keras .keras file, but it is a ZIP archive"),
    "model.pt": (lambda w, p: p.write_bytes(b"PK\x03\x04"),
                 r"looks like a PyTorch file: export it with torch.onnx.export"),
    "huge.onnx": (lambda w, p: p.open("wb").truncate(importing.MAX_BYTES + 1),
                  r"it is 200.0 MB; the limit is 200 MB"),
    "lambda.keras": (lambda w, p: _lambda_keras(p),
                     "it holds a Keras Lambda layer, whose Python code Keras' safe mode will not run"),
    "no_graph.zip": (lambda w, p: p.write_bytes(_zip({"variables/variables.index": b"x"})),
                     "a SavedModel ZIP holds one saved_model.pb .*, this one holds 0"),
    "escape.zip": (lambda w, p: p.write_bytes(_zip({"m/saved_model.pb": b"x", "m/../../evil.txt": b"x"})),
                   "outside the archive"),
}


@pytest.mark.parametrize("file", list(REFUSALS))
def test_refusals_name_what_was_found_and_write_nothing(file, weights, store_root, tmp_path):
    make, message = REFUSALS[file]
    path = tmp_path / file
    make(weights, path)
    with pytest.raises(importing.ImportRefused, match=message):
        importing.import_model(path, "x", root=store_root)
    assert store.list_names(store_root) == []
    assert not store_root.exists() or not any(store_root.iterdir())


def test_a_name_is_checked_before_the_file_is_read(files, store_root):
    importing.import_model(files["torch_like.onnx"], "mine", root=store_root)
    with pytest.raises(store.NameTaken):
        importing.import_model(files["torch_like.onnx"], "mine", root=store_root)
    with pytest.raises(store.ProtectedName):
        importing.import_model(files["torch_like.onnx"], "default", root=store_root)
    found = importing.detect(opened := importing.open_file(files["torch_like.onnx"]))
    with pytest.raises(store.NameTaken):  # the page saves what it detected earlier: checked again then
        importing.save(opened, found, "mine", root=store_root)
    card = importing.import_model(files["flat_784.h5"], "mine", replace=True, root=store_root)
    assert card["backend"] == "keras" and store.list_names(store_root) == ["mine"]


def test_a_corrupt_convention_on_a_card_is_a_clear_store_error(files, store_root):
    importing.import_model(files["torch_like.onnx"], "m", root=store_root)
    card_file = store_root / "m" / "card.json"
    card_file.write_text(json.dumps({**json.loads(card_file.read_text()), "convention": {"input": "32x32"}}))
    with pytest.raises(store.CorruptModel, match="unknown input layout '32x32'"):
        loading.load("m", store_root)


# -- the command line --------------------------------------------------------------------------

def test_the_cli_imports_and_says_what_it_found(files, store_root, capsys):
    assert main(["import", str(files["torch_like.onnx"]), "--name", "cli-onnx"]) == 0
    out = capsys.readouterr().out
    assert "imported 'cli-onnx' from torch_like.onnx (onnx" in out
    assert "1x28x28 (channels first, as PyTorch)" in out and "from the input shape" in out
    assert "normalised with MNIST's mean" in out and "logits (softmax applied)" in out
    assert "test accuracy" in out
    assert main(["import", str(files["flat_784.h5"]), "--name", "cli-h5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["convention"] == mi.CONVENTIONS["flat_784.h5"] and data["backend"] == "keras"
    assert main(["models"]) == 0  # an imported model has no training time: listed, not a crash
    assert "cli-onnx                 imported (onnx) acc 0.8" in capsys.readouterr().out


def test_the_cli_refuses_with_a_message_and_status_2(tmp_path, store_root, capsys):
    bad = tmp_path / "net.onnx"
    bad.write_text("not a model")
    assert main(["import", str(bad), "--name", "x"]) == 2
    assert "error: cannot import 'net.onnx': its name says an ONNX file, but it is text" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing.onnx"), "--name", "x"]) == 2
    assert "no such file" in capsys.readouterr().err


# -- the layer table (section 2) ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["keras_255_logits.keras", "torch_like.onnx", "inverted_28x28.tflite"])
def test_layer_table_parameters_add_up_to_count_params(name, files, store_root):
    from mnist_core.analysis import layers

    importing.import_model(files[name], "m", root=store_root)
    model = loading.load("m", store_root)
    rows = layers.layer_table(model)
    assert sum(r["params"] for r in rows) == model.count_params()
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    dense = [r for r in rows if r["params"] == 784 * 32 + 32]
    assert len(dense) == 1 and dense[0]["macs"] == 784 * 32


def test_layer_table_of_studio_models(tiny_splits):
    from mnist_core.analysis import layers
    from mnist_core.models import numpy_nets, zoo
    from mnist_core.training.config import TrainConfig

    net = zoo.build(TrainConfig.for_model("lenet5"))
    rows = layers.layer_table(loading.LoadedModel("lenet", {}, net, "keras"))
    assert sum(r["params"] for r in rows) == net.count_params()
    conv = [r for r in rows if r["type"] == "Conv2D"]
    assert conv[0]["conv"].startswith("conv 1:")
    first = net.get_layer(conv[0]["layer"])
    kh, kw, cin, cout = first.kernel.shape
    out = first.output.shape
    assert conv[0]["macs"] == out[1] * out[2] * kh * kw * cin * cout
    flat = numpy_nets.NumpyNet((784, 32, 10))
    rows = layers.layer_table(loading.LoadedModel("flat", {}, flat, "numpy"))
    assert sum(r["params"] for r in rows) == flat.count_params()


def test_the_embedding_map_of_an_onnx_import_uses_its_log_probabilities(files, store_root, tiny_splits):
    from mnist_core.analysis import embedding

    importing.import_model(files["torch_like.onnx"], "m", root=store_root)
    model = loading.load("m", store_root)
    x = tiny_splits.x_test
    np.testing.assert_allclose(embedding.features(model, x[:4]), np.log(np.clip(model.predict_proba(x[:4]), 1e-7, 1)),
                               rtol=1e-5)
    assert "log-probabilities" in embedding.source_of(model)
