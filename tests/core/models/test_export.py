"""Every export format round-trips through its own runtime with agreement figures in the card."""

import shutil

import numpy as np
import pytest

from mnist_core.models import export, loading, store, zoo
from mnist_core.models.numpy_nets import NumpyNet
from mnist_core.training.config import TrainConfig

N_CHECK = 300  # fewer than the CLI's 1,000 keeps these quick; test_default_check_uses_1000_test_images covers that


@pytest.fixture(scope="module")
def mnist():
    from mnist_core.data.mnist import load_splits

    return load_splits()


@pytest.fixture(scope="module")
def root(tmp_path_factory, mnist):
    """A store with a few-batch 'fast' CNN (its recipe's crop and space-to-depth layers), a NumPy MLP and an ensemble."""
    import keras

    root = tmp_path_factory.mktemp("export-store")
    keras.utils.set_random_seed(0)
    net = zoo.build(TrainConfig.for_model("fast", precision="float32", extra={"crop": 2, "stem": "s2d"}))
    assert [type(layer).__name__ for layer in net.layers[1:5]] == ["Cropping2D", "Reshape", "Permute", "Reshape"]
    net.compile("adam", "sparse_categorical_crossentropy")
    net.fit(mnist.x_train[:2048], mnist.y_train[:2048], batch_size=128, epochs=1, verbose=0)
    store.save("tiny", net, {"kind": "fast", "backend": "keras", "test_accuracy": 0.9}, root)
    mlp = NumpyNet((784, 32, 10), seed=0)
    for i in range(0, 2048, 64):
        mlp.train_step(mnist.x_train[i:i + 64], mnist.y_train[i:i + 64], 0.1)
    store.save("tiny-np", mlp, {"kind": "numpy_mlp", "backend": "numpy", "test_accuracy": 0.8}, root)
    store.save("pair", None, {"kind": "ensemble", "backend": "ensemble", "members": ["tiny", "tiny-np"]}, root)
    return root


def _load(name, root):
    return loading.load(name, root)


@pytest.mark.parametrize("fmt", ["onnx", "litert", "savedmodel", "keras"])
def test_every_format_round_trips_with_its_agreement_figures(fmt, root, mnist, tmp_path):
    x = mnist.x_test[:N_CHECK]
    out = tmp_path / ("tiny" + (export.FORMATS[fmt][0] or "_savedmodel"))
    report = export.export("tiny", fmt, out, root=root, images=x)
    assert report["images"] == N_CHECK and report["same_class"] == N_CHECK and report["all_same_class"]
    assert 0 <= report["max_prob_diff"] < 1e-4 and report["bytes"] > 10_000 and out.exists()
    # Read the artifact again, independently of the export's own check.
    got = export.PREDICTORS[fmt](out, x[:50])
    np.testing.assert_allclose(got, _load("tiny", root).predict_proba(x[:50]), atol=1e-4)
    recorded = store.read_card("tiny", root)["exports"][fmt]
    assert {k: recorded[k] for k in ("images", "same_class", "max_prob_diff", "bytes")} == \
        {k: report[k] for k in ("images", "same_class", "max_prob_diff", "bytes")}
    assert recorded["runtime"].split()[0] == export.FORMATS[fmt][1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_an_ensemble_exports_as_one_averaging_graph(root, mnist, tmp_path):
    x = mnist.x_test[:N_CHECK]
    report = export.export("pair", "onnx", tmp_path / "pair.onnx", root=root, images=x)
    assert report["all_same_class"] and report["max_prob_diff"] < 1e-4
    expected = (_load("tiny", root).predict_proba(x) + _load("tiny-np", root).predict_proba(x)) / 2
    np.testing.assert_allclose(export.PREDICTORS["onnx"](tmp_path / "pair.onnx", x), expected, atol=1e-4)
    report = export.export("pair", "litert", tmp_path / "pair.tflite", root=root, images=x)
    assert report["all_same_class"]
    card = store.read_card("pair", root)
    assert set(card["exports"]) >= {"onnx", "litert"} and card["members"] == ["tiny", "tiny-np"]
    assert card["file"] is None  # still an ensemble card, not a model file


def test_numpy_net_exports_to_onnx_as_matrix_products(root, mnist, tmp_path):
    import onnx

    x = mnist.x_test[:N_CHECK]
    report = export.export("tiny-np", "onnx", tmp_path / "np.onnx", root=root, images=x)
    assert report["all_same_class"] and report["max_prob_diff"] < 1e-5
    ops = {node.op_type for node in onnx.load(str(tmp_path / "np.onnx")).graph.node}
    assert ops == {"Flatten", "MatMul", "Add", "Relu", "Softmax"}
    # Other formats go through the equivalent Keras Dense stack.
    assert export.export("tiny-np", "keras", tmp_path / "np.keras", root=root, images=x)["all_same_class"]
    assert (store.model_dir("tiny-np", root) / store.NUMPY_FILE).is_file()


def test_default_check_uses_1000_test_images(root, tmp_path):
    report = export.export("tiny-np", "onnx", tmp_path / "np.onnx", root=root)
    assert report["images"] == export.CHECK_IMAGES == 1000 and report["all_same_class"]


def test_agreement_reports_a_changed_class():
    ref = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]], np.float32)
    got = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], np.float32)
    figures = export.agreement(ref, got)
    assert figures == {"images": 3, "same_class": 2, "all_same_class": False,
                       "max_prob_diff": pytest.approx(0.2)}
    with pytest.raises(export.ExportError, match="shape"):
        export.agreement(ref, got[:2])


def test_bad_requests_are_clear_errors_and_leave_files_alone(root, tmp_path):
    with pytest.raises(export.ExportError, match="onnx, litert, savedmodel, keras"):
        export.export("tiny", "pt", tmp_path / "x.pt", root=root)
    with pytest.raises(export.ExportError, match="ending in .onnx"):
        export.export("tiny", "onnx", tmp_path / "x.tflite", root=root)
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "mine.txt").write_text("keep me")
    with pytest.raises(export.ExportError, match="not a SavedModel"):
        export.export("tiny", "savedmodel", keep, root=root)
    assert (keep / "mine.txt").read_text() == "keep me"
    with pytest.raises(store.ModelNotFound):
        export.export("ghost", "onnx", tmp_path / "g.onnx", root=root)


def test_a_failed_check_keeps_the_old_file(root, mnist, tmp_path, monkeypatch):
    out = tmp_path / "tiny.onnx"
    out.write_bytes(b"old")

    def broken(path, x):
        raise RuntimeError("runtime refused the file")

    monkeypatch.setitem(export.PREDICTORS, "onnx", broken)
    with pytest.raises(RuntimeError, match="refused"):
        export.export("tiny", "onnx", out, root=root, images=mnist.x_test[:10])
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]


@pytest.mark.slow
def test_the_shipped_default_exports_to_every_format(tmp_path, mnist):
    from tests.conftest import REPO

    root = tmp_path / "models"
    shutil.copytree(REPO / "models" / "default", root / "default")
    for fmt in export.FORMATS:
        report = export.export("default", fmt, tmp_path / f"out-{fmt}{export.FORMATS[fmt][0]}", root=root)
        assert report["images"] == 1000 and report["all_same_class"], report
        assert report["max_prob_diff"] < 1e-4


def test_a_model_replaced_during_the_export_keeps_its_own_card(root, mnist, tmp_path, monkeypatch):
    stale = loading.load("tiny-np", root)
    card = store.read_card("tiny-np", root)
    store.save("tiny-np", stale.net, {**card, "created": "replaced", "exports": {}}, root)
    monkeypatch.setattr(loading, "load", lambda name, root: stale)
    report = export.export("tiny-np", "onnx", tmp_path / "np.onnx", root=root, images=mnist.x_test[:20])
    assert report["all_same_class"] and report["recorded"] is False
    assert store.read_card("tiny-np", root)["exports"] == {}


def test_a_visitor_may_export_but_not_change_the_card(root, mnist, tmp_path):
    from mnist_core import access

    before = store.read_card("tiny-np", root).get("exports", {}).get("litert")
    with access.acting_as(access.VISITOR):
        report = export.export("tiny-np", "litert", tmp_path / "np.tflite", root=root, images=mnist.x_test[:20])
    assert report["all_same_class"] and report["recorded"] is False and (tmp_path / "np.tflite").is_file()
    assert store.read_card("tiny-np", root).get("exports", {}).get("litert") == before
