"""Model files made elsewhere, read and checked: what a file is, before anything in it is scored or stored.

open_file(path) takes a `.keras`, legacy HDF5 `.h5` (re-saved as `.keras`), `.onnx`, `.tflite`, or a
TensorFlow SavedModel folder or ZIP (converted to LiteRT with built-in operators only) and gives an
Opened: the net ready to run in its own convention, its input and output shapes, and what the store
will write. Every refusal is an ImportRefused naming what was found and what is accepted: a file over
MAX_BYTES or one that is not what its extension says is refused before it is parsed, Keras files load
with safe_mode=True, and nothing in a file runs except through its runtime. importing.py works out the
file's convention and saves it.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from mnist_core.models import convention as conv_mod
from mnist_core.models import runtimes, store

MAX_BYTES = 200 * 1024 * 1024
MAX_ZIP_FILES = 2000

# A file's extension -> its format; each format -> the backend that runs it in the store.
EXTENSIONS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5", ".onnx": "onnx", ".tflite": "tflite",
              ".zip": "savedmodel"}
BACKENDS = {"keras": "keras", "h5": "keras", "onnx": "onnx", "tflite": "litert", "savedmodel": "litert"}
FORMAT_WORDS = {"keras": "a Keras .keras file", "h5": "a legacy Keras HDF5 file", "onnx": "an ONNX file",
                "tflite": "a LiteRT (TFLite) file", "savedmodel": "a TensorFlow SavedModel"}
HINTS = {".pt": "a PyTorch file: export it with torch.onnx.export(model, torch.zeros(1, 1, 28, 28), 'model.onnx')",
         ".pth": "a PyTorch file: export it with torch.onnx.export(model, torch.zeros(1, 1, 28, 28), 'model.onnx')",
         ".pb": "a bare TensorFlow graph: give the whole SavedModel folder (or a ZIP of it)",
         ".safetensors": "weights without a graph: export the model to ONNX",
         ".pkl": "a pickle, which can run any code when read: export the model to ONNX"}
ACCEPTED = ".keras, .h5, .onnx, .tflite, or a SavedModel folder or .zip"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class ImportRefused(store.StoreError):
    """The file cannot be imported; the message names what was found and what is accepted. Nothing was written."""


@dataclass
class Opened:
    """A model file read and checked, ready to score: nothing is in the store yet."""

    format: str
    backend: str
    source: dict  # file, sha256, bytes, format
    net: object  # a Keras model (its own convention), or a runtimes.RuntimeNet
    input_dims: list
    output_dims: list
    stored: object  # what store.save writes as the model file (has .save(path))
    notes: list = field(default_factory=list)

    def run(self, native: np.ndarray) -> np.ndarray:
        """Raw outputs for inputs already in the model's own layout and scale."""
        if self.backend != "keras":
            return self.net.run(native)
        out = [np.asarray(self.net(native[i:i + 1000], training=False)) for i in range(0, len(native), 1000)]
        return np.concatenate(out).astype(np.float32)


# -- reading the file ----------------------------------------------------------------------

def open_file(path, source_name: str | None = None) -> Opened:
    """Read and check a model file (or SavedModel folder); every problem is an ImportRefused."""
    path = Path(path)
    shown = source_name or path.name
    if not path.exists():
        raise ImportRefused(f"no such file: {path}")
    if path.is_dir():
        return _open_saved_model_folder(path, shown)
    fmt = EXTENSIONS.get(Path(shown).suffix.lower())
    if fmt is None:
        suffix = Path(shown).suffix.lower()
        hint = f" ({shown} looks like {HINTS[suffix]})" if suffix in HINTS else ""
        raise ImportRefused(f"cannot import '{shown}': the studio imports {ACCEPTED}{hint}")
    size = path.stat().st_size
    _check_size(shown, size)
    data = path.read_bytes()
    _check_size(shown, len(data))  # it may have grown since
    source = {"file": shown, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "format": fmt}
    if fmt == "savedmodel":
        return _open_saved_model_zip(data, source)
    _check_kind(fmt, data, shown)
    if fmt in ("keras", "h5"):
        return _open_keras(fmt, data, source)
    backend = BACKENDS[fmt]
    try:
        net = runtimes.open_runtime(backend, data)
    except runtimes.RuntimeNetError as exc:
        raise ImportRefused(f"cannot import '{shown}': {exc}") from None
    _check_one_input_output(net.inputs, net.outputs, shown)
    if net.input_type not in ("tensor(float)", "tensor(double)", "tensor(float16)", "float32"):
        raise ImportRefused(f"cannot import '{shown}': it takes {net.input_type} input; the studio feeds float "
                            "pixels (a quantised model with integer input is not supported: import its float version)")
    return Opened(fmt, backend, source, net, list(net.input_dims), list(net.output_dims), store.FileBytes(data))


def _check_size(shown: str, size: int) -> None:
    if size > MAX_BYTES:
        raise ImportRefused(f"cannot import '{shown}': it is {size / 2**20:,.1f} MB; the limit is "
                            f"{MAX_BYTES / 2**20:,.0f} MB (an MNIST model is rarely over a few MB)")


def what_it_is(data: bytes) -> str:
    """A guess at what bytes are, from their first bytes, for refusal messages."""
    head = data[:16]
    for magic, words in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
                         (b"%PDF", "a PDF document"), (HDF5_SIGNATURE, "an HDF5 file"),
                         (b"PK\x03\x04", "a ZIP archive"),
                         (b"\x80", "a Python pickle")):
        if head.startswith(magic):
            return words
    if data[4:8] == b"TFL3":
        return "a LiteRT (TFLite) file"
    if not data:
        return "an empty file"
    try:
        data[:2048].decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "binary data of an unknown kind"


def _check_kind(fmt: str, data: bytes, shown: str) -> None:
    """Refuse a file that is not what its extension says, before any parser reads it."""
    ok = {"keras": lambda: _is_keras_zip(data), "h5": lambda: data.startswith(HDF5_SIGNATURE),
          "tflite": lambda: data[4:8] == b"TFL3", "onnx": lambda: _is_onnx(data)}[fmt]()
    if not ok:
        raise ImportRefused(f"cannot import '{shown}': its name says {FORMAT_WORDS[fmt]}, but it is "
                            f"{what_it_is(data)}")


def _is_keras_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "config.json" in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def _is_onnx(data: bytes) -> bool:
    if data[:1] != b"\x08":  # an ONNX ModelProto starts with its ir_version field
        return False
    import onnx

    try:
        proto = onnx.load_model_from_string(data)
    except Exception:  # noqa: BLE001 - not a protobuf of that shape
        return False
    return bool(proto.graph.node) and bool(proto.opset_import)


def _check_one_input_output(inputs: list, outputs: list, shown: str) -> None:
    if len(inputs) != 1:
        names = ", ".join(f"{n} {conv_mod.shape_text(s[1:]) if s else '?'}" for n, s, _ in inputs) or "none"
        raise ImportRefused(f"cannot import '{shown}': it has {len(inputs)} inputs ({names}); the studio feeds one "
                            f"28x28 image, as one input shaped {conv_mod.accepted_shapes()}")
    if len(outputs) != 1:
        raise ImportRefused(f"cannot import '{shown}': it has {len(outputs)} outputs "
                            f"({', '.join(n for n, _, _ in outputs)}); the studio reads one output of class scores")


def _open_keras(fmt: str, data: bytes, source: dict) -> Opened:
    import keras

    shown = source["file"]
    with tempfile.TemporaryDirectory(prefix="mnist-import-") as tmp:
        file = Path(tmp) / ("model.keras" if fmt == "keras" else "model.h5")
        file.write_bytes(data)
        try:
            net = keras.saving.load_model(file, compile=False, safe_mode=True)
        except Exception as exc:  # noqa: BLE001 - said in words below
            raise ImportRefused(f"cannot import '{shown}': {_keras_reason(exc)}") from None
    if not isinstance(net, keras.Model) or not getattr(net, "inputs", None):
        raise ImportRefused(f"cannot import '{shown}': it holds a {type(net).__name__} without defined inputs; "
                            "save a Sequential or functional Keras model built with keras.Input")
    _check_one_input_output([(t.name, list(t.shape), "") for t in net.inputs],
                            [(t.name, list(t.shape), "") for t in net.outputs], shown)
    # HDF5 is re-saved as .keras (what the store loads); a .keras file is stored as it came.
    stored = store.FileBytes(data) if fmt == "keras" else net
    notes = [] if fmt == "keras" else ["the HDF5 file is stored re-saved as model.keras (same layers and weights)"]
    return Opened(fmt, "keras", source, net, list(net.inputs[0].shape[1:]), list(net.outputs[0].shape[1:]),
                  stored, notes)


def _keras_reason(exc: Exception) -> str:
    text = str(exc)
    if "Lambda" in text:
        return ("it holds a Keras Lambda layer, whose Python code Keras' safe mode will not run (code from a file "
                "could do anything on this machine). Replace the Lambda with built-in layers (Rescaling, Reshape, "
                "Permute...) and save again, or export the model to ONNX")
    match = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if match or "could not be deserialized" in text:
        which = f" ('{match.group(1)}')" if match else ""
        return (f"it uses a custom layer or model class{which} that is not part of Keras; the studio does not run "
                "code that comes with a model. Export the model to ONNX, or rebuild it from built-in layers")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"Keras cannot read it ({type(exc).__name__}: {first[:300]})"


def _open_saved_model_folder(folder: Path, shown: str) -> Opened:
    files = [p for p in folder.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    _check_size(shown, size)
    if not (folder / "saved_model.pb").is_file():
        raise ImportRefused(f"cannot import the folder '{shown}': a SavedModel folder holds saved_model.pb, and this "
                            f"one does not (the studio imports {ACCEPTED})")
    digest = hashlib.sha256()
    for p in sorted(files):
        digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    source = {"file": shown, "sha256": digest.hexdigest(), "bytes": size, "format": "savedmodel"}
    return _converted(folder, source)


def _open_saved_model_zip(data: bytes, source: dict) -> Opened:
    shown = source["file"]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ImportRefused(f"cannot import '{shown}': its name says a ZIP (of a SavedModel), but it is "
                            f"{what_it_is(data)}") from None
    with archive, tempfile.TemporaryDirectory(prefix="mnist-import-") as tmp:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise ImportRefused(f"cannot import '{shown}': it holds {len(members):,} files; a SavedModel has a few")
        total = sum(m.file_size for m in members)
        _check_size(f"{shown} (unpacked)", total)
        paths = [PurePosixPath(m.filename) for m in members]
        roots = [p.parent for p in paths if p.name == "saved_model.pb"]
        if len(roots) != 1:
            raise ImportRefused(f"cannot import '{shown}': a SavedModel ZIP holds one saved_model.pb (at its top or in "
                                f"one folder), this one holds {len(roots)}")
        root, out = roots[0], Path(tmp) / "saved_model"
        for m in members:
            rel = PurePosixPath(m.filename)
            try:
                inside = rel.relative_to(root) if str(root) != "." else rel
            except ValueError:
                continue  # beside the SavedModel: not needed
            if rel.is_absolute() or ".." in rel.parts or not inside.parts:
                raise ImportRefused(f"cannot import '{shown}': it holds a file named {m.filename!r} outside the "
                                    "archive")
            target = out.joinpath(*inside.parts)  # never the archive's own path: a clean one under our folder
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(m) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        return _converted(out, source)


def _converted(folder: Path, source: dict) -> Opened:
    """A SavedModel converted to LiteRT with built-in operators only: the graph is never run as TensorFlow."""
    import tensorflow as tf

    shown = source["file"]
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        data = converter.convert()
    except Exception as exc:  # noqa: BLE001 - the converter's reason, in one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ImportRefused(f"cannot import '{shown}': the SavedModel could not be converted to LiteRT with "
                            f"built-in operators ({first}); export it to ONNX or .keras instead") from None
    try:
        net = runtimes.LiteRTNet(data)
    except runtimes.RuntimeNetError as exc:
        raise ImportRefused(f"cannot import '{shown}': {exc}") from None
    _check_one_input_output(net.inputs, net.outputs, shown)
    return Opened("savedmodel", "litert", source, net, list(net.input_dims), list(net.output_dims),
                  store.FileBytes(data), ["the SavedModel is stored converted to LiteRT (model.tflite), built-in "
                                          "operators only"])
