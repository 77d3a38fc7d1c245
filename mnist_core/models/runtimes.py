"""Imported ONNX and LiteRT models, run by their own runtimes (onnxruntime, the LiteRT interpreter).

OnnxNet and LiteRTNet are what loading.LoadedModel holds as `net` for the
`onnx` and `litert` backends. Both read the file's bytes (never a path the
file names: an ONNX file asking for external data is refused), apply the
stored input convention (convention.py) and answer `predict_proba` for
studio images (N, 28, 28, 1) in [0, 1], like a NumPy net. They give
predictions only: no gradients, no layer outputs, no trainable weights, so
saliency, feature maps and fine-tuning are not available for them
(`loading.LoadedModel.why_no_graph` says so). `layer_table()` lists the
operator graph's nodes with their output shapes and constant parameters.
"""

from __future__ import annotations

import threading
from importlib import metadata

import numpy as np

from mnist_core.errors import UserError
from mnist_core.models.convention import Convention

FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}


class RuntimeNetError(UserError, ValueError):
    """The file cannot be run by its runtime; the message says why."""


class RuntimeNet:
    backend = ""
    package = ""
    batch = 1024
    input_dims: list
    output_dims: list

    def __init__(self, convention: Convention | None = None):
        self.convention = convention or Convention()
        self._lock = threading.Lock()  # a LiteRT interpreter is not thread-safe; Streamlit shares cached models

    def run(self, native: np.ndarray) -> np.ndarray:
        """The model's raw outputs (N, ...) for inputs already in its own layout and scale."""
        if len(native) == 0:
            return np.zeros((0, int(np.prod([d for d in self.output_dims if isinstance(d, int) and d > 0] or [0]))),
                            np.float32)
        with self._lock:
            return np.concatenate([self._run(native[i:i + self.batch]) for i in range(0, len(native), self.batch)])

    def _run(self, native: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) for studio images (N, 28, 28, 1) in [0, 1]."""
        native = self.convention.to_native(x)
        return self.convention.to_probs(self.run(native))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    @property
    def runtime(self) -> str:
        try:
            return f"{self.package} {metadata.version(self.package)}"
        except metadata.PackageNotFoundError:
            return self.package


# -- ONNX -----------------------------------------------------------------------------------

class OnnxNet(RuntimeNet):
    backend, package = "onnx", "onnxruntime"

    def __init__(self, data: bytes, convention: Convention | None = None):
        super().__init__(convention)
        import onnx
        import onnxruntime

        try:
            self.proto = onnx.load_model_from_string(data)
        except Exception as exc:  # noqa: BLE001 - any decoding failure: not an ONNX model
            raise RuntimeNetError(f"it is not a readable ONNX model ({type(exc).__name__}: {exc})") from None
        external = [t.name for t in self.proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        if external:
            raise RuntimeNetError(f"its weights live in separate files ({', '.join(external[:3])}...), which the "
                                  "studio "
                                  "does not read; save the model as one file (onnx.save with "
                                  "save_as_external_data=False)")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - unknown operators, bad graphs: the runtime's reason
            raise RuntimeNetError(f"onnxruntime cannot run it: {_first_line(exc)}") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        self.inputs = [(i.name, list(i.shape), i.type) for i in inputs]
        self.outputs = [(o.name, list(o.shape), o.type) for o in outputs]
        self.input_dims = list(inputs[0].shape[1:]) if inputs and inputs[0].shape else []
        self.output_dims = list(outputs[0].shape[1:]) if outputs and outputs[0].shape else []
        self.input_type = inputs[0].type if inputs else None

    def _run(self, native: np.ndarray) -> np.ndarray:
        name, _, kind = self.inputs[0]
        feed = native.astype(FLOAT_TYPES.get(kind, np.float32), copy=False)
        return np.asarray(self.session.run([self.outputs[0][0]], {name: feed})[0], np.float32)

    def count_params(self) -> int:
        """Numbers stored in the file: initializers and Constant nodes."""
        total = sum(int(np.prod(t.dims)) for t in self.proto.graph.initializer)
        for node in self.proto.graph.node:
            if node.op_type == "Constant":
                total += sum(int(np.prod(a.t.dims)) for a in node.attribute if a.name == "value")
        return total

    def layer_table(self) -> list[dict]:
        """One row per operator node: its type, name, output shape, and the constants it reads."""
        import onnx

        try:
            inferred = onnx.shape_inference.infer_shapes(self.proto).graph
        except Exception:  # noqa: BLE001 - shapes are a nicety
            inferred = self.proto.graph
        shapes = {v.name: [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                           for d in v.type.tensor_type.shape.dim]
                  for v in list(inferred.value_info) + list(inferred.output) + list(inferred.input)}
        sizes = {t.name: int(np.prod(t.dims)) for t in self.proto.graph.initializer}
        for node in self.proto.graph.node:
            if node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value":
                        sizes[node.output[0]] = int(np.prod(a.t.dims))
                        shapes[node.output[0]] = list(a.t.dims)
        rows, counted = [], set()
        for i, node in enumerate(self.proto.graph.node):
            if node.op_type == "Constant":
                continue  # counted with the node that reads it
            out = shapes.get(node.output[0]) if node.output else None
            mine = {name for name in node.input if name in sizes} - counted  # a shared constant: its first reader
            counted |= mine
            params = sum(sizes[name] for name in mine)
            rows.append({"layer": node.name or f"{node.op_type.lower()}_{i}", "type": node.op_type,
                         "output_shape": _shape(out), "params": params,
                         "macs": _onnx_macs(node, shapes, sizes)})
        return rows


def _onnx_macs(node, shapes: dict, sizes: dict) -> int | None:
    """Multiply-adds per image of a Conv, Gemm or MatMul node, from its weight and output shapes."""
    if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2 or node.input[1] not in sizes:
        return 0 if node.op_type not in ("Conv", "Gemm", "MatMul") else None
    weights = sizes[node.input[1]]
    out = shapes.get(node.output[0]) or []
    if node.op_type == "Conv":
        spatial = out[2:] if len(out) > 2 else []
        if not spatial or not all(isinstance(d, int) and d > 0 for d in spatial):
            return None
        return int(weights * np.prod(spatial))
    return int(weights)


# -- LiteRT ---------------------------------------------------------------------------------

class LiteRTNet(RuntimeNet):
    backend, package = "litert", "ai-edge-litert"

    def __init__(self, data: bytes, convention: Convention | None = None):
        super().__init__(convention)
        from ai_edge_litert.interpreter import Interpreter

        self.data = data
        try:
            self.interpreter = Interpreter(model_content=data)
            self.interpreter.allocate_tensors()
        except Exception as exc:  # noqa: BLE001 - custom or TensorFlow ops the interpreter lacks, bad files
            raise RuntimeNetError(f"the LiteRT interpreter cannot run it: {_first_line(exc)}") from None
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        self.inputs = [(d["name"], _signature(d), np.dtype(d["dtype"]).name) for d in inputs]
        self.outputs = [(d["name"], _signature(d), np.dtype(d["dtype"]).name) for d in outputs]
        self.input_dims = self.inputs[0][1][1:] if inputs else []
        self.output_dims = self.outputs[0][1][1:] if outputs else []
        self.input_type = self.inputs[0][2] if inputs else None
        self._batch = None  # the batch size the tensors are allocated for

    def _run(self, native: np.ndarray) -> np.ndarray:
        try:
            return self._invoke(native)
        except (ValueError, RuntimeError):  # a file with a fixed batch of one: one image at a time
            return np.concatenate([self._invoke(native[i:i + 1]) for i in range(len(native))])

    def _invoke(self, native: np.ndarray) -> np.ndarray:
        source = self.interpreter.get_input_details()[0]
        if self._batch != len(native):
            self._batch = None
            self.interpreter.resize_tensor_input(source["index"], [len(native), *native.shape[1:]])
            self.interpreter.allocate_tensors()
            self._batch = len(native)
        self.interpreter.set_tensor(source["index"], native.astype(np.float32, copy=False))
        self.interpreter.invoke()
        target = self.interpreter.get_output_details()[0]
        return np.asarray(self.interpreter.get_tensor(target["index"]), np.float32).reshape(len(native), -1)

    def _ops(self) -> tuple[list, dict]:
        ops = [op for op in self.interpreter._get_ops_details()  # noqa: SLF001 - its only view of its graph
               if op["op_name"] != "DELEGATE"]  # XNNPACK's stand-ins for nodes already listed
        tensors = {t["index"]: t for t in self.interpreter.get_tensor_details()}
        return ops, tensors

    def _constants(self, ops, tensors) -> set:
        produced = {i for op in ops for i in op["outputs"]}
        fed = {d["index"] for d in self.interpreter.get_input_details()}
        return {i for op in ops for i in op["inputs"] if i >= 0 and i not in produced and i not in fed
                and i in tensors}

    def count_params(self) -> int:
        ops, tensors = self._ops()
        return int(sum(int(np.prod(tensors[i]["shape"])) for i in self._constants(ops, tensors)))

    def layer_table(self) -> list[dict]:
        ops, tensors = self._ops()
        constants = self._constants(ops, tensors)
        rows, counted = [], set()
        for op in ops:
            out = op["outputs"][0] if len(op["outputs"]) else None
            mine = {int(i) for i in op["inputs"] if i in constants} - counted  # a shared constant: its first reader
            counted |= mine
            params = sum(int(np.prod(tensors[i]["shape"])) for i in mine)
            shape = _signature(tensors[out]) if out is not None and out in tensors else None
            macs = 0
            if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op["inputs"]) > 1:
                kernel = int(np.prod(tensors[op["inputs"][1]]["shape"])) if op["inputs"][1] in tensors else 0
                spatial = [max(d, 1) for d in shape[1:3]] if op["op_name"] != "FULLY_CONNECTED" and shape else [1]
                macs = kernel * int(np.prod(spatial))
            name = tensors[out]["name"] if out is not None and out in tensors else ""
            name = name.split(";")[0]  # fused nodes list every name they stand for
            rows.append({"layer": name or f"op_{op['index']}", "type": op["op_name"], "output_shape": _shape(shape),
                         "params": params, "macs": macs})
        return rows


def _signature(detail: dict) -> list:
    sig = detail.get("shape_signature")
    dims = list(sig if sig is not None and len(sig) else detail["shape"])
    return [int(d) for d in dims]


def _shape(dims) -> str:
    if dims is None:
        return "?"
    return "(" + ", ".join("batch" if i == 0 and (d is None or isinstance(d, str) or d <= 0) else
                           "?" if d is None or isinstance(d, str) or (isinstance(d, (int, np.integer)) and d <= 0)
                           else str(int(d)) for i, d in enumerate(dims)) + ")"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:400]


def open_runtime(backend: str, data: bytes, convention: Convention | None = None) -> RuntimeNet:
    if backend == "onnx":
        return OnnxNet(data, convention)
    if backend == "litert":
        return LiteRTNet(data, convention)
    raise RuntimeNetError(f"no runtime for backend {backend!r}")
