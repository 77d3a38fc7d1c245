"""An embedding map: what a model's last hidden layer makes of each image, drawn in two dimensions.

`features(model, x)` is the input of the model's last weighted layer (the
penultimate representation: what the classifier separates); a NumPy net
gives its last hidden activations; an imported ONNX or LiteRT model, whose
inner layers its runtime does not show, gives its log-probabilities.
`project(...)` reduces them to 2-D with PCA (an SVD of the centred
features: deterministic and fast); `tsne(...)` is exact t-SNE written in
NumPy (van der Maaten and Hinton, 2008), a few seconds for 1,000 points
here, which keeps clusters apart that PCA lays on top of each other
(scikit-learn, openTSNE and UMAP are not installed: UMAP brings numba,
whose compile alone takes longer). `embedding_map(...)` does either for a
sample of a labelled set, with the user's own images placed on the same map,
and keeps, for every point, the row of the set it stands for.
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


METHODS = ("PCA", "t-SNE")


def embedding_map(model, x: np.ndarray, y: np.ndarray, n: int = 2000, seed: int = 0, method: str = "PCA",
                  own: tuple | None = None) -> dict:
    """{rows, xy (n, 2), label, pred, confidence, correct, explained, dims, source, method, own} for n rows of
    (x, y) drawn at random (the same rows for the same n and seed): point i stands for x[rows[i]].

    own: (images, labels) of the user's handwriting, placed on the same map (PCA: projected on the test
    images' axes; t-SNE: embedded with them) and returned as own = {xy, label, pred, correct}.
    """
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r}; choose {' or '.join(METHODS)}")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(y), size=min(int(n), len(y)), replace=False))
    feats = features(model, x[rows])
    own_x, own_y = own if own is not None and len(own[0]) else (np.zeros((0, 28, 28, 1), np.float32), np.zeros(0, int))
    own_feats = features(model, own_x) if len(own_x) else np.zeros((0, feats.shape[1]), np.float32)
    proj = project(feats)
    if method == "PCA":
        xy, own_xy = proj.apply(feats), proj.apply(own_feats)
    else:
        both = tsne(np.concatenate([feats, own_feats]), seed=seed)
        xy, own_xy = both[:len(feats)], both[len(feats):]
    probs = np.asarray(model.predict_proba(x[rows]))
    pred = probs.argmax(axis=1)
    own_pred = np.asarray(model.predict_proba(own_x)).argmax(axis=1) if len(own_x) else np.zeros(0, int)
    return {"rows": rows, "xy": xy.astype(np.float32), "label": y[rows], "pred": pred,
            "confidence": probs.max(axis=1), "correct": pred == y[rows], "explained": proj.explained,
            "dims": int(feats.shape[1]), "source": source_of(model), "method": method, "projection": proj,
            "own": {"xy": own_xy.astype(np.float32), "label": np.asarray(own_y), "pred": own_pred,
                    "correct": own_pred == np.asarray(own_y)}}


# t-SNE's usual settings: perplexity 30, early exaggeration 12 for the first 250 steps, momentum 0.5 then
# 0.8, the learning rate n / 12 (Belkina et al., 2019), features first cut to 50 principal components.
PERPLEXITY, EXAGGERATION, EARLY, STEPS, PCA_DIMS = 30.0, 12.0, 250, 500, 50


def tsne(feats: np.ndarray, perplexity: float = PERPLEXITY, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    """(n, 2) exact t-SNE of (n, d) features; deterministic for a seed. O(n^2) memory and time per step."""
    x = _principal(np.asarray(feats, np.float64), PCA_DIMS)
    n = len(x)
    if n < 3:
        return np.zeros((n, 2))
    p = _joint_p(_squared_distances(x), min(perplexity, (n - 1) / 3)).astype(np.float32)
    y = _principal(x, 2)
    y = (y / (y[:, 0].std() or 1.0) * 1e-4 + np.random.default_rng(seed).normal(0, 1e-6, y.shape)).astype(np.float32)
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    rate = max(n / EXAGGERATION, 50.0)
    for step in range(steps):
        grad = _tsne_gradient(p * (EXAGGERATION if step < EARLY else 1.0), y)
        same = np.sign(grad) == np.sign(velocity)
        gains = np.clip(np.where(same, gains * 0.8, gains + 0.2), 0.01, None)
        velocity = (0.5 if step < EARLY else 0.8) * velocity - rate * gains * grad
        y = y + velocity
    return (y - y.mean(axis=0)).astype(np.float64)


def _principal(x: np.ndarray, k: int) -> np.ndarray:
    centred = x - x.mean(axis=0)
    if x.shape[1] <= k:
        return centred
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :k] * s[:k]


def _squared_distances(x: np.ndarray) -> np.ndarray:
    sq = (x ** 2).sum(axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)


def _joint_p(d: np.ndarray, perplexity: float) -> np.ndarray:
    """Symmetric affinities from each row's Gaussian of the given perplexity."""
    p, _ = _conditional(d, _widths(d, perplexity))
    joint = (p + p.T) / (2 * len(d))
    return np.maximum(joint, 1e-12)


def _widths(d: np.ndarray, perplexity: float) -> np.ndarray:
    """Each row's precision (1 / 2 sigma^2), found by bisection for all rows at once, such that its
    conditional distribution has entropy log(perplexity)."""
    n = len(d)
    target = np.log(perplexity)
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    beta = np.ones(n) / (np.median(d, axis=1) + 1e-12)
    for _ in range(40):  # 2^-40 of the bracket once found: far below what the map can show
        too_flat = _conditional(d, beta)[1] > target
        lo = np.where(too_flat, beta, lo)
        hi = np.where(too_flat, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2, np.where(np.isinf(lo), beta / 2, (lo + hi) / 2))
    return beta


def _conditional(d: np.ndarray, beta: np.ndarray) -> tuple:
    logits = -d * beta[:, None]
    np.fill_diagonal(logits, -np.inf)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    entropy = -(p * np.log(np.maximum(p, 1e-300))).sum(axis=1)
    return p, entropy


def _tsne_gradient(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    sq = (y ** 2).sum(axis=1)
    num = 1.0 / (1.0 + sq[:, None] + sq[None, :] - 2 * y @ y.T)
    np.fill_diagonal(num, 0.0)
    q = np.maximum(num / num.sum(), 1e-12)
    pq = (p - q) * num
    return 4.0 * (pq.sum(axis=1)[:, None] * y - pq @ y)


def _is_keras(net) -> bool:
    return hasattr(net, "layers") and hasattr(net, "inputs")


def _last_weighted(net):
    """The last layer with a kernel (the classifier), whose input is the penultimate representation."""
    for layer in reversed(net.layers):
        if getattr(layer, "kernel", None) is not None or type(layer).__name__ in ("Dense", "Conv2D"):
            return layer
    return None
