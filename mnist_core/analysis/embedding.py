"""An embedding map: what a model's last hidden layer makes of each image, drawn in two dimensions.

`features(model, x)` is the input of the model's last weighted layer (the
penultimate representation: what the classifier separates); a NumPy net
gives its last hidden activations; an imported ONNX or LiteRT model, whose
inner layers its runtime does not show, gives its log-probabilities.
`project(...)` reduces them to 2-D with PCA (an SVD of the centred
features: deterministic and fast; t-SNE and UMAP would need packages the
studio does not install). `embedding_map(...)` does both for a sample of a
labelled set and keeps, for every point, the row of the set it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Projection:
    mean: np.ndarray  # (d,)
    components: np.ndarray  # (2, d)
    explained: tuple  # share of the variance along each axis

    def apply(self, feats: np.ndarray) -> np.ndarray:
        return (np.asarray(feats, np.float64) - self.mean) @ self.components.T


def source_of(model) -> str:
    """What the features are, in words, for a caption."""
    model = (getattr(model, "members", None) or [model])[0]
    net = getattr(model, "net", model)
    if getattr(model, "backend", None) in ("onnx", "litert"):
        return "its output log-probabilities (its runtime shows no inner layer)"
    if _is_keras(net):
        layer = _last_weighted(net)
        return f"the input of its last layer '{layer.name}'" if layer is not None else "its outputs"
    if hasattr(net, "forward"):
        return "its last hidden layer" if len(net.weights) > 1 else "the pixels (a softmax net has no hidden layer)"
    return "its outputs"


def features(model, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """(N, d) penultimate features of studio images (N, 28, 28, 1); an ensemble's first member."""
    model = (getattr(model, "members", None) or [model])[0]
    net = getattr(model, "net", model)
    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    if getattr(model, "backend", None) in ("onnx", "litert"):
        return np.log(np.clip(model.predict_proba(x), 1e-7, 1.0)).astype(np.float32)
    if _is_keras(net):
        import keras

        layer = _last_weighted(net)
        if layer is None:
            return np.asarray(model.predict_proba(x), np.float32)
        probe = keras.Model(net.inputs[0] if len(net.inputs) == 1 else net.inputs, layer.input)
        out = [np.asarray(probe(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
        out = np.concatenate(out) if out else np.zeros((0,) + tuple(probe.output.shape[1:]), np.float32)
        return out.reshape(len(x), -1).astype(np.float32)
    if hasattr(net, "forward"):
        return np.concatenate([net.forward(x[i:i + batch])[1][-2] for i in range(0, len(x), batch)]) \
            .astype(np.float32)
    return np.asarray(model.predict_proba(x), np.float32)


def project(feats: np.ndarray) -> Projection:
    """The two principal axes of the features (signs fixed so that a run is reproducible)."""
    feats = np.asarray(feats, np.float64)
    mean = feats.mean(axis=0)
    _, s, vt = np.linalg.svd(feats - mean, full_matrices=False)
    comps = vt[:2]
    if comps.shape[0] < 2:  # one feature: a flat second axis
        comps = np.vstack([comps, np.zeros_like(comps)])
    signs = np.sign(comps[np.arange(2), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1, signs)[:, None]
    var = s ** 2
    explained = tuple(float(v / var.sum()) if var.sum() else 0.0 for v in (list(var[:2]) + [0.0, 0.0])[:2])
    return Projection(mean, comps, explained)


def embedding_map(model, x: np.ndarray, y: np.ndarray, n: int = 2000, seed: int = 0) -> dict:
    """{rows, xy (n, 2), label, pred, confidence, correct, explained, dims, source, projection} for n rows of
    (x, y) drawn at random (the same rows for the same n and seed): point i stands for x[rows[i]]."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(y), size=min(int(n), len(y)), replace=False))
    feats = features(model, x[rows])
    proj = project(feats)
    probs = np.asarray(model.predict_proba(x[rows]))
    pred = probs.argmax(axis=1)
    return {"rows": rows, "xy": proj.apply(feats).astype(np.float32), "label": y[rows], "pred": pred,
            "confidence": probs.max(axis=1), "correct": pred == y[rows], "explained": proj.explained,
            "dims": int(feats.shape[1]), "source": source_of(model), "projection": proj}


def _is_keras(net) -> bool:
    return hasattr(net, "layers") and hasattr(net, "inputs")


def _last_weighted(net):
    """The last layer with a kernel (the classifier), whose input is the penultimate representation."""
    for layer in reversed(net.layers):
        if getattr(layer, "kernel", None) is not None or type(layer).__name__ in ("Dense", "Conv2D"):
            return layer
    return None
