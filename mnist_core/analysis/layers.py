"""A model's layers as a table: type, output shape, parameters and their share, multiply-adds per image.

Like Keras' model.summary(), but for every backend and readable on a page:
a Keras model lists its top-level layers (a nested model is one row, with
all its parameters), a NumPy net its dense layers, an imported ONNX or
LiteRT file its operator graph's nodes (runtimes.py). The parameter column
always adds up to the model's count_params().
"""

from __future__ import annotations

import numpy as np


def layer_table(model) -> list[dict]:
    """[{layer, type, output_shape, params, share, macs, conv}] for a LoadedModel (an ensemble: its first member).

    `macs` is multiply-adds per image for Dense and convolution layers (0 for the others, None when the
    shapes do not say); `conv` is the Inspect title of a Conv2D layer ('conv 1: 32 filters 3x3'), else None.
    """
    model = (getattr(model, "members", None) or [model])[0]
    net = getattr(model, "net", model)
    if hasattr(net, "layer_table"):  # an imported ONNX or LiteRT file
        rows = [dict(r, conv=None) for r in net.layer_table()]
    elif hasattr(net, "layers") and hasattr(net, "inputs"):
        rows = _keras_rows(net)
    elif hasattr(net, "weights") and hasattr(net, "biases"):
        rows = _numpy_rows(net)
    else:
        rows = []
    total = sum(r["params"] for r in rows)
    for r in rows:
        r["share"] = r["params"] / total if total else 0.0
    return rows


def _keras_rows(net) -> list[dict]:
    from mnist_core.analysis import explain

    titles = explain.layer_titles(net)
    rows = []
    for layer in net.layers:
        shape = _output_shape(layer)
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output_shape": _text(shape),
                     "params": int(layer.count_params()) if layer.built else 0, "macs": _keras_macs(layer, shape),
                     "conv": titles.get(layer.name)})
    return rows


def _output_shape(layer):
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):  # a layer used twice has no single output
        return None


def _input_channels(layer) -> int | None:
    try:
        shape = tuple(layer.input.shape)
    except (AttributeError, ValueError):
        return None
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return shape[1]
    return shape[-1]


def _keras_macs(layer, shape) -> int | None:
    kind = type(layer).__name__
    if kind == "Dense":
        kernel = getattr(layer, "kernel", None)
        if kernel is None or shape is None:
            return None
        positions = int(np.prod([d for d in shape[1:-1]] or [1]))  # Dense on a sequence runs per position
        return int(np.prod(kernel.shape)) * positions
    if kind in ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D"):
        if shape is None or any(d is None for d in shape[1:]):
            return None
        channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
        spatial = int(np.prod(shape[2:] if channels_first else shape[1:-1]))
        if kind == "SeparableConv2D":
            depth = int(np.prod(layer.depthwise_kernel.shape))
            return spatial * (depth + int(np.prod(layer.pointwise_kernel.shape)))
        kernel = layer.depthwise_kernel if kind == "DepthwiseConv2D" else layer.kernel
        return spatial * int(np.prod(kernel.shape))
    return 0


def _numpy_rows(net) -> list[dict]:
    rows = [{"layer": "input", "type": "Flatten", "output_shape": "(batch, 784)", "params": 0, "macs": 0,
             "conv": None}]
    last = len(net.weights) - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        w, b = np.asarray(w), np.asarray(b)
        rows.append({"layer": f"dense_{i + 1}", "type": "Dense (softmax)" if i == last else "Dense (ReLU)",
                     "output_shape": f"(batch, {w.shape[1]})", "params": int(w.size + b.size), "macs": int(w.size),
                     "conv": None})
    return rows


def _text(shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("batch" if i == 0 and d is None else ("?" if d is None else str(d))
                           for i, d in enumerate(shape)) + ")"


def total_macs(rows: list[dict]) -> int | None:
    """Multiply-adds per image over the table; None when some layer's count is unknown."""
    values = [r["macs"] for r in rows]
    return None if any(v is None for v in values) else int(sum(values))
