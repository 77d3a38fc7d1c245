"""Export a saved model to ONNX, LiteRT, a TensorFlow SavedModel or a .keras file, checked as it is made.

Keras models go through Keras' own `model.export` (ONNX via tf2onnx, LiteRT
via the TFLite converter) and `model.save`. An ensemble becomes one graph
that averages its members' probabilities; a NumPy net becomes an ONNX graph
of MatMul/Add/Relu/Softmax built with onnx's helper API (other formats go
through an equivalent Keras Dense stack). Every export is written beside its
destination, read back through the artifact's own runtime (onnxruntime, the
LiteRT interpreter, tf.saved_model.load, keras.saving.load_model), compared
with the stored model on MNIST test images, and only then moved into place;
the agreement figures go into the model's card.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from mnist_core.models import loading, store

# format -> (file suffix, or "" for a directory; the runtime that checks it)
FORMATS = {
    "onnx": (".onnx", "onnxruntime"),
    "litert": (".tflite", "ai-edge-litert"),
    "savedmodel": ("", "tensorflow"),
    "keras": (".keras", "keras"),
}
CHECK_IMAGES = 1000


class ExportError(store.StoreError):
    """A request that cannot be exported; the message says what is accepted."""


def default_path(name: str, fmt: str) -> Path:
    suffix = _suffix(fmt)
    return Path(f"{name}{suffix}" if suffix else f"{name}_savedmodel")


def _suffix(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return FORMATS[fmt][0]


def export(name: str, fmt: str, out: str | Path | None = None, root: Path | None = None,
           images: np.ndarray | None = None) -> dict:
    """Write models/<name> as `fmt` to `out`, verify it, record the figures in the card; returns the report."""
    suffix = _suffix(fmt)
    out = Path(out) if out else default_path(name, fmt)
    _check_destination(out, fmt, suffix)
    model = loading.load(name, root)
    _check_exportable(model)
    x = _check_images(images)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.parent / f".tmp-{secrets.token_hex(4)}-{out.name}"
    t0 = time.perf_counter()
    try:
        _write(model, fmt, staged)
        got = PREDICTORS[fmt](staged, x)
        figures = agreement(model.predict_proba(x), got)
        _place(staged, out)
    finally:
        _remove(staged)
    report = {"model": name, "format": fmt, "path": str(out), "bytes": _size(out),
              "seconds": round(time.perf_counter() - t0, 3), "runtime": _runtime(fmt), **figures}
    report["recorded"] = _record(model, fmt, report, root)
    return report


def agreement(reference: np.ndarray, exported: np.ndarray) -> dict:
    """Same class for every image? And the largest probability difference."""
    reference, exported = np.asarray(reference, np.float32), np.asarray(exported, np.float32)
    if reference.shape != exported.shape:
        raise ExportError(f"the exported model returned shape {exported.shape}, expected {reference.shape}")
    same = int(np.sum(reference.argmax(axis=1) == exported.argmax(axis=1)))
    return {"images": len(reference), "same_class": same, "all_same_class": same == len(reference),
            "max_prob_diff": float(np.max(np.abs(reference - exported))) if len(reference) else 0.0}


# -- choosing and checking --------------------------------------------------------
def _check_destination(out: Path, fmt: str, suffix: str) -> None:
    if suffix and out.suffix != suffix:
        raise ExportError(f"an export to {fmt} is a file ending in {suffix}; got {out}")
    if suffix and out.is_dir():
        raise ExportError(f"{out} is a directory; give a file path ending in {suffix}")
    if not suffix and out.exists() and not _is_saved_model(out):
        raise ExportError(f"{out} exists and is not a SavedModel; give a new directory path for the SavedModel")


def _check_exportable(model) -> None:
    """An imported ONNX or LiteRT file runs only in its runtime: there is no graph to convert."""
    members = getattr(model, "members", None) or [model]
    opaque = [m for m in members if m.backend in loading.RUNTIME_BACKENDS]
    if opaque:
        m = opaque[0]
        what = f"'{m.name}' is" if m is model else f"its member '{m.name}' is"
        raise ExportError(f"'{model.name}' cannot be exported: {what} {loading.RUNTIME_WORDS[m.backend]}, which "
                          "runs it but cannot convert it to another format. The imported file itself is the "
                          "Download model file button on the Models page (it reads the model's own input "
                          "convention, recorded on its card)")


def _is_saved_model(path: Path) -> bool:
    return path.is_dir() and (path / "saved_model.pb").is_file()


def _check_images(images: np.ndarray | None) -> np.ndarray:
    if images is None:
        from mnist_core.data.mnist import load_splits

        images = load_splits().x_test[:CHECK_IMAGES]
    return np.ascontiguousarray(np.asarray(images, np.float32).reshape(-1, 28, 28, 1))


# -- writing --------------------------------------------------------------------
def _write(model, fmt: str, path: Path) -> None:
    if fmt == "onnx" and model.backend == "numpy":
        return _numpy_onnx(model.net, path, model.name)
    graph = keras_graph(model)
    if fmt == "keras":
        graph.save(path)
    else:
        graph.export(str(path), format={"savedmodel": "tf_saved_model"}.get(fmt, fmt), verbose=False)


def keras_graph(model):
    """One float32 Keras model computing `model`'s probabilities, called once (export needs that)."""
    import keras

    if model.backend == "ensemble":
        image = keras.Input((28, 28, 1), name="image")
        # Members are renamed: two copies of one architecture would otherwise clash inside one graph.
        members = [_renamed(_member_graph(m), f"member_{i}_{m.name}") for i, m in enumerate(model.members)]
        graph = keras.Model(image, keras.layers.Average(name="average")([m(image) for m in members]),
                            name=f"ensemble_{model.name}")
    else:
        graph = _member_graph(model)
    graph(np.zeros((1, 28, 28, 1), np.float32), training=False)
    return graph


def _member_graph(model):
    return numpy_as_keras(model.net, model.name) if model.backend == "numpy" else model.net


def _renamed(net, name: str):
    clone = type(net).from_config({**net.get_config(), "name": name})
    clone.set_weights(net.get_weights())
    return clone


def numpy_as_keras(net, name: str = "numpy_net"):
    """The same fully connected net as Keras Dense layers (ReLU hidden, softmax out), same weights."""
    import keras

    image = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(image)
    last = len(net.weights) - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        dense = keras.layers.Dense(w.shape[1], activation="softmax" if i == last else "relu")
        x = dense(x)
        dense.set_weights([np.asarray(w, np.float32), np.asarray(b, np.float32)])
    return keras.Model(image, x, name=name.replace("-", "_"))


def _numpy_onnx(net, path: Path, name: str) -> None:
    """The NumPy net's forward pass as an ONNX graph: Flatten, then MatMul + Add (+ Relu), Softmax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, weights, x = [helper.make_node("Flatten", ["image"], ["x"], axis=1)], [], "x"
    last = len(net.weights) - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        weights += [numpy_helper.from_array(np.asarray(w, np.float32), f"w{i}"),
                    numpy_helper.from_array(np.asarray(b, np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [x, f"w{i}"], [f"mm{i}"]),
                  helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"z{i}"])]
        x = f"z{i}"
        if i < last:
            nodes.append(helper.make_node("Relu", [x], [f"a{i}"]))
            x = f"a{i}"
    nodes.append(helper.make_node("Softmax", [x], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 28, 28, 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", net.sizes[-1]])], weights)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="mnist-studio")
    proto.ir_version = 8  # readable by onnxruntime releases from 2022 on
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


# -- reading back through each format's own runtime -----------------------------------
def _predict_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _predict_litert(path: Path, x: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def _predict_savedmodel(path: Path, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # held: the function needs its variables alive while it runs
    return np.asarray(loaded.serve(tf.constant(x)))


def _predict_keras(path: Path, x: np.ndarray) -> np.ndarray:
    import keras

    net = keras.saving.load_model(path, compile=False, safe_mode=True)
    return np.asarray(net.predict(x, batch_size=1000, verbose=0))


PREDICTORS = {"onnx": _predict_onnx, "litert": _predict_litert, "savedmodel": _predict_savedmodel,
              "keras": _predict_keras}


# -- files and the card ------------------------------------------------------------
def _place(staged: Path, out: Path) -> None:
    """Move the verified export into place; an old SavedModel directory is replaced whole."""
    if staged.is_dir() and out.exists():
        trash = out.parent / f".trash-{secrets.token_hex(4)}-{out.name}"
        os.replace(out, trash)
        os.replace(staged, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staged, out)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _runtime(fmt: str) -> str:
    package = FORMATS[fmt][1]
    try:
        return f"{package} {metadata.version(package if package != 'tensorflow' else 'tensorflow-cpu')}"
    except metadata.PackageNotFoundError:
        return package


def _record(model, fmt: str, report: dict, root: Path | None) -> bool:
    """Add this export's figures to the card through the store's atomic save.

    The save writes back the network that was exported; when the model was
    replaced meanwhile (another card), the figures are not recorded, so the
    newer model is never overwritten by the older one. A visitor (access.py)
    may export and download but does not change the card.
    """
    from mnist_core import access

    card = store.read_card(model.name, root)
    if not access.is_editor() or card.get("created") != model.card.get("created") or card.get("backend") != model.card.get("backend"):
        return False
    keep = ("images", "same_class", "all_same_class", "max_prob_diff", "bytes", "runtime")
    exports = {**(card.get("exports") or {}),
               fmt: {**{k: report[k] for k in keep}, "exported": time.strftime("%Y-%m-%dT%H:%M:%S%z")}}
    net = None if model.backend == "ensemble" else model.net
    if card.get("convention") is not None:  # an imported file is kept as it came, not as the adapted graph
        net = store.read(model.name, lambda folder, c: store.FileBytes((folder / store.file_name(c)).read_bytes()),
                         root)
    store.save(model.name, net, {**card, "exports": exports}, root)
    return True
