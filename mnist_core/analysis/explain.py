"""What a model looks at: conv filters, feature maps and saliency.

Works on a loading.LoadedModel (or a bare Keras model / NumpyNet). Models
without conv layers (the NumPy nets, softmax, MLP) have no filters or
feature maps: `conv_layers` returns [] and callers say so. Saliency works for
every model: Keras through TensorFlow's autodiff, the NumPy nets through the
same hand-written backprop they train with.
"""

from __future__ import annotations

import numpy as np

from mnist_core.errors import UserError

# Layers that still belong to a conv block: its feature maps are read after them.
_BLOCK_TAIL = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU")


class ExplainError(UserError, ValueError):
    """The model cannot be explained this way; the message says why."""


def _net(model):
    return getattr(model, "net", model)


def _is_keras(net) -> bool:
    return hasattr(net, "layers") and hasattr(net, "inputs")


def _image(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.size != 28 * 28:
        raise ExplainError(f"expected one 28x28 image, got shape {x.shape}")
    return x.reshape(1, 28, 28, 1)


def conv_layers(model) -> list:
    """The Conv2D layers of a Keras model, in order ([] for anything else)."""
    net = _net(model)
    if not _is_keras(net):
        return []
    return [layer for layer in net.layers if type(layer).__name__ == "Conv2D"]


def layer_title(layer, index: int) -> str:
    """What a conv layer is, for people who do not read Keras' names: 'conv 1: 32 filters 3x3'."""
    kh, kw = getattr(layer, "kernel_size", (None, None))
    title = f"conv {index}: {getattr(layer, 'filters', '?')} filters {kh}x{kw}"
    strides = tuple(getattr(layer, "strides", (1, 1)))
    return title + (f", stride {strides[0]}" if strides != (1, 1) else "")


def layer_titles(model) -> dict[str, str]:
    """{Keras layer name: 'conv N: ...'} for every conv layer, numbered from 1 in order."""
    return {layer.name: layer_title(layer, i) for i, layer in enumerate(conv_layers(model), start=1)}


def conv_filters(model) -> list[dict]:
    """Every conv layer's kernel: [{name, title, weights (kh, kw, in, out)}].

    A conv right after space-to-depth (the stem `fast` used until 2026-12-07) is shown as what it is on
    the image: a 2k x 2k filter with stride 2, one input channel.
    """
    titles = layer_titles(model)
    out = []
    for layer in conv_layers(model):
        weights, title = np.asarray(layer.get_weights()[0]), titles[layer.name]
        if _after_space_to_depth(layer):
            weights = unfold_space_to_depth(weights)
            title += f" on 2x2 blocks = {weights.shape[0]}x{weights.shape[1]} on the image, stride 2"
        out.append({"name": layer.name, "title": title, "weights": weights})
    return out


def _after_space_to_depth(layer) -> bool:
    """Whether the layer reads the Reshape that ends zoo's space-to-depth (Reshape, Permute, Reshape to 4 channels)."""
    try:
        source = layer.input._keras_history[0]
        before = source.input._keras_history[0]
    except (AttributeError, IndexError):
        return False
    return (type(source).__name__, type(before).__name__) == ("Reshape", "Permute") and layer.input.shape[-1] == 4


def unfold_space_to_depth(weights: np.ndarray) -> np.ndarray:
    """(k, k, 4, out) on 2x2 blocks -> the same filters (2k, 2k, 1, out) on the image.

    Channel 2 * di + dj of a block holds the pixel at row offset di, column dj
    (zoo._fast_stem's Reshape-Permute-Reshape, the order of tf.nn.space_to_depth).
    """
    kh, kw, _, n_out = weights.shape
    blocks = weights.reshape(kh, kw, 2, 2, n_out)  # (ky, kx, di, dj, out)
    return np.transpose(blocks, (0, 2, 1, 3, 4)).reshape(2 * kh, 2 * kw, 1, n_out)


def most_active(maps: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k channels with the highest mean activation for this image, most active first."""
    means = np.asarray(maps, dtype=np.float32).reshape(-1, maps.shape[-1]).mean(axis=0)
    return np.argsort(-means, kind="stable")[:max(0, int(k))]


def filter_grid(weights: np.ndarray, pad: int = 1) -> np.ndarray:
    """One 2-D image of a conv kernel, NaN between tiles (plotly leaves NaN blank).

    A first layer (one input channel) is laid out as a near-square grid of its
    filters; deeper layers as rows = input channels, columns = output channels
    (a layer usually has more outputs than inputs, so the grid comes out wide).
    """
    kh, kw, n_in, n_out = weights.shape
    if n_in == 1:
        tiles = np.moveaxis(weights[:, :, 0, :], -1, 0)
        cols = int(np.ceil(np.sqrt(n_out)))
        return montage(tiles, cols, pad)
    tiles = np.transpose(weights, (2, 3, 0, 1)).reshape(n_in * n_out, kh, kw)
    return montage(tiles, n_out, pad)


def montage(tiles: np.ndarray, cols: int, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile (N, h, w) images into one (rows*(h+pad)-pad, cols*(w+pad)-pad) float image."""
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape
    cols = max(1, min(int(cols), n))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), fill, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tiles[i]
    return out


def _block_outputs(net) -> list:
    """For each Conv2D, the layer whose output ends its block (after BN / ReLU)."""
    layers, picked = list(net.layers), []
    for i, layer in enumerate(layers):
        if type(layer).__name__ != "Conv2D":
            continue
        end = layer
        for nxt in layers[i + 1:]:
            if type(nxt).__name__ not in _BLOCK_TAIL:
                break
            end = nxt
        picked.append((layer.name, end))
    return picked


_PROBES: dict[int, tuple] = {}  # id(net) -> (net, the model reading its blocks): built once per loaded net


def feature_maps(model, x: np.ndarray) -> list[dict]:
    """Every conv block's activations for one image: [{name, maps (h, w, channels)}]."""
    net = _net(model)
    picked = _block_outputs(net) if _is_keras(net) else []
    if not picked:
        return []
    import keras

    probe = _PROBES.get(id(net))
    if probe is None or probe[0] is not net:
        probe = (net, keras.Model(_inputs(net), [end.output for _, end in picked]))
        _PROBES[id(net)] = probe
        while len(_PROBES) > 8:  # models replaced in the app: let the old ones go
            _PROBES.pop(next(iter(_PROBES)))
    outs = probe[1](_image(x), training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    titles = layer_titles(model)
    return [{"name": name, "title": titles.get(name, name), "maps": np.asarray(out)[0]}
            for (name, _), out in zip(picked, outs)]


def maps_grid(maps: np.ndarray, pad: int = 1, channels: np.ndarray | None = None) -> np.ndarray:
    """A layer's feature maps (only `channels`, when given) as one image, scaled by the layer's maximum.

    One scale for the whole layer (not per channel) keeps dead channels dark
    instead of amplifying their noise.
    """
    maps = np.asarray(maps, dtype=np.float32)
    top = float(np.max(np.abs(maps))) or 1.0
    if channels is not None:
        maps = maps[..., np.asarray(channels, dtype=int)]
    tiles = np.moveaxis(maps, -1, 0) / top
    return montage(tiles, int(np.ceil(np.sqrt(len(tiles)))), pad)


def layer_view(layer: dict, limit: int = 16) -> dict:
    """How to show one layer's feature maps to a student.

    Returns {title, channels (indices shown, most active first), total, kind}:
    kind "maps" tiles the channels' images; kind "bars" (maps of 2x2 or less,
    which would be dots) gives each shown channel's mean activation instead.
    Early layers with few channels show all of them; deep ones their
    `limit` most active for this image.
    """
    maps = np.asarray(layer["maps"])
    h, w, total = maps.shape
    channels = np.arange(total) if total <= limit else most_active(maps, limit)
    kind = "bars" if h * w <= 4 else "maps"
    shown = f"all {total} maps" if len(channels) == total else f"the {len(channels)} most active of {total} maps"
    title = f"{layer.get('title', layer['name'])} · {shown}, {h}x{w} each"
    return {"title": title, "channels": channels, "total": total, "kind": kind,
            "values": maps.reshape(-1, total).mean(axis=0)[channels]}


def _inputs(net):
    # A one-input model called with a bare tensor wants its input unwrapped (else Keras warns).
    return net.inputs[0] if len(net.inputs) == 1 else net.inputs


def _keras_logits_fn(net):
    """A function x -> class scores before the softmax, when the last layer allows it."""
    import keras

    last = net.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if type(last).__name__ == "Dense" and activation == "softmax":
        features = keras.Model(_inputs(net), last.input)
        kernel, bias = last.kernel, last.bias

        def logits(x):
            out = keras.ops.matmul(features(x, training=False), kernel)
            return out + bias if bias is not None else out

        return logits
    if type(last).__name__ == "Softmax":  # an imported model's logits, with the studio's softmax after them
        return keras.Model(_inputs(net), last.input)
    return lambda x: net(x, training=False)


def _keras_gradient(net, x: np.ndarray, target: int) -> np.ndarray:
    import tensorflow as tf

    score_fn = _keras_logits_fn(net)
    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        score = tf.reduce_sum(score_fn(xt)[:, target])  # each image's score depends on that image alone
    return np.asarray(tape.gradient(score, xt))[:, :, :, 0]


def _numpy_gradient(net, x: np.ndarray, target: int) -> np.ndarray:
    """d logit_target / d x by backprop through the ReLU layers."""
    _, activations = net.forward(x)
    delta = np.zeros((len(x), net.sizes[-1]), np.float32)
    delta[:, target] = 1.0
    for i in range(len(net.weights) - 1, -1, -1):
        delta = delta @ net.weights[i].T
        if i > 0:  # activations[i] is layer i's ReLU output; zero where it was off
            delta = delta * (activations[i] > 0)
    return delta.reshape(-1, 28, 28)


def _gradient(net, x: np.ndarray, target: int) -> np.ndarray:
    """d score_target / d x for a batch of images (n, 28, 28, 1) -> (n, 28, 28)."""
    if _is_keras(net):
        return _keras_gradient(net, x, target)
    if hasattr(net, "forward") and hasattr(net, "weights"):
        return _numpy_gradient(net, x, target)
    raise ExplainError(f"cannot compute saliency for a {type(net).__name__}")


def _probs(model, x: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict_proba"):  # LoadedModel, ensemble, NumpyNet
        return np.asarray(model.predict_proba(x))[0]
    return np.asarray(model(x, training=False))[0]  # a bare Keras model


# How a saliency map is made. The plain gradient is large on empty paper too (ink added there would
# change the answer), which reads as "the model looks at the background"; gradient x input keeps only
# the ink that raised the score; SmoothGrad averages the gradient over noisy copies, which calms the
# pixel-to-pixel noise of a ReLU net's gradient.
SALIENCY_METHODS = {
    "evidence": "gradient × input: the ink that raised the score",
    "smoothgrad": "SmoothGrad: where a change would move the score, averaged over noisy copies",
    "gradient": "gradient: where a change would move the score",
}
SMOOTH_COPIES, SMOOTH_NOISE = 24, 0.15


def saliency(model, x: np.ndarray, method: str = "evidence", seed: int = 0) -> dict:
    """Which pixels the predicted class's score depends on (SALIENCY_METHODS).

    Returns {prediction, confidence, probs, method, gradient (28, 28) signed (the plain gradient),
    map (28, 28) in [0, 1] scaled to its brightest pixel}. The class score is the logit (before
    softmax) when the model exposes it, because the softmax probability of a confident prediction is
    flat and its gradient vanishes. An ensemble (a model with `members`) uses its members' mean
    gradient of the ensemble's predicted class.
    """
    if method not in SALIENCY_METHODS:
        raise ExplainError(f"unknown saliency method {method!r}; choose one of {', '.join(SALIENCY_METHODS)}")
    x = _image(x)
    probs = _probs(model, x)
    target = int(probs.argmax())
    nets = [_net(m) for m in getattr(model, "members", None) or [model]]
    grad = np.mean([_gradient(net, x, target)[0] for net in nets], axis=0)
    if method == "evidence":
        heat = np.maximum(grad * x[0, :, :, 0], 0)
    elif method == "smoothgrad":
        noisy = x + np.random.default_rng(seed).normal(0, SMOOTH_NOISE, (SMOOTH_COPIES, 28, 28, 1)).astype(np.float32)
        heat = np.abs(np.mean([_gradient(net, noisy, target).mean(axis=0) for net in nets], axis=0))
    else:
        heat = np.abs(grad)
    top = float(heat.max())
    return {"prediction": target, "confidence": float(probs.max()), "probs": probs, "method": method,
            "gradient": grad.astype(np.float32), "map": (heat / top if top > 0 else heat).astype(np.float32)}


def confusion_examples(y_true: np.ndarray, y_pred: np.ndarray, true: int, pred: int,
                       confidence: np.ndarray | None = None, limit: int = 48) -> np.ndarray:
    """Indices of the images labelled `true` and predicted `pred`, most confident first."""
    idx = np.flatnonzero((np.asarray(y_true) == true) & (np.asarray(y_pred) == pred))
    if confidence is not None:
        idx = idx[np.argsort(-np.asarray(confidence)[idx], kind="stable")]
    return idx[:limit]
