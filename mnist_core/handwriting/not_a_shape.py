"""Is this 28x28 input one of a shapes model's classes at all? The "not a digit" method, with the shapes model's own statistics.

The same two parts as not_a_digit.py, sharing its code: features (the model's
penultimate activations beside not_a_digit.geometry) and a small two-layer
head (not_a_digit.fit_head / head_score) trained on the generator's
shapes against drawings that are none of them: MNIST digits and
negatives.py's scribbles, letters, textures and dots. Its threshold keeps the
rejected share of validation shapes at REJECT_BUDGET. The head lives in the
model's card ("not_a_shape"), so a copy or promotion of the model keeps it.
The head is fitted on training shapes and its threshold chosen on validation
shapes: chosen on the shapes it was fitted to, it refused 8% of unseen ones.
"""

from __future__ import annotations

import numpy as np

from mnist_core.handwriting import not_a_digit

REASON = "not a shape"
REJECT_BUDGET = 0.01  # 0.005 let a drawn zigzag through as a star and refused 67% of real "other" drawings; 0.01: 74%
ARRAYS = ("w1", "b1", "w2", "b2", "mean", "std")


def features(model, x: np.ndarray) -> np.ndarray:
    """The model's penultimate activations and the ink geometry, side by side."""
    import keras

    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    net = model.net
    trunk = keras.Model(net.inputs, net.layers[-2].output)
    f = np.asarray(trunk.predict(x, batch_size=1024, verbose=0), np.float32).reshape(len(x), -1)
    return np.hstack([f, not_a_digit.geometry(x)])


def calibrate(model, shapes_x: np.ndarray, others_x: np.ndarray, threshold_x: np.ndarray | None = None,
              seed: int = 0) -> dict:
    """The card entry: the head fitted on shapes (kept) against others (refused), its threshold chosen on
    threshold_x (shapes the head never saw: on the ones it was fitted to, it is overconfident)."""
    pos, neg = features(model, shapes_x), features(model, others_x)
    head = not_a_digit.fit_head(pos, neg, hidden=16, steps=400, seed=seed)
    held = pos if threshold_x is None else features(model, threshold_x)
    threshold = float(np.quantile(not_a_digit.head_score(held, head), 1 - REJECT_BUDGET))
    refused = float((not_a_digit.head_score(neg, head) > threshold).mean())
    return {"threshold": threshold, "reject_budget": REJECT_BUDGET, "others_refused": refused,
            **{k: np.round(head[k], 6).tolist() for k in ARRAYS}}


def available(model) -> bool:
    return isinstance(model.card.get("not_a_shape"), dict) and getattr(model, "backend", None) == "keras"


def check(model, x: np.ndarray) -> list:
    """For each image a reason it is none of the model's shapes, or None; no rejections without a calibrated head."""
    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    if not len(x) or not available(model):
        return [None] * len(x)
    entry = model.card["not_a_shape"]
    head = {k: np.asarray(entry[k], np.float32) for k in ARRAYS}
    feats = features(model, x)
    empty = feats[:, -7] == 0  # geometry's total ink
    score = not_a_digit.head_score(feats, head)
    return [f"{REASON} (no ink left after preprocessing)" if e else
            f"{REASON} (it looks like none of the shapes this model knows)" if s > entry["threshold"] else None
            for e, s in zip(empty, score)]
