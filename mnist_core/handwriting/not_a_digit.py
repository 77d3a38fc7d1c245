"""Is this 28x28 model input a digit at all? Dots, lines, scribbles, letters, shapes and textures are not.

Two checks, both on the preprocessed input (so drawings, photos and each digit
of a number are judged alike), both with thresholds chosen on MNIST's
validation split (bench/not_a_digit.py --calibrate writes them):

- ink geometry, which names what it saw: a dot or blob (the ink fills its box
  like no digit does), a line (flat: MNIST fits a digit's long side to 20 px
  and no digit is flat), a scribble or texture (many stroke crossings per row
  and column, or a box solid with ink);
- a small detector: a two-layer network on the 128 penultimate features of
  the shipped `default` CNN plus the geometry, trained on MNIST's training
  digits against generated non-digits (negatives.py). Its threshold keeps
  the rejected share of validation digits at REJECT_BUDGET.

The feature trunk is a frozen copy of `default`'s network up to those 128
features (in NumPy, batch norm folded into the convolutions), shipped beside this module, so the answer does not change when
another model becomes active or `default` is replaced.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

HERE = Path(__file__).with_name("not_a_digit")
TRUNK_FILE, HEAD_FILE = HERE / "trunk.npz", HERE / "detector.npz"
INK = 0.3  # a pixel at least this bright is ink (MNIST's strokes are ~1 in the middle, soft at the edges)
REJECT_BUDGET = 0.003  # share of validation digits the two checks together may reject
REASON = "not a digit"

_lock = threading.Lock()
_cache: dict = {}


def geometry(x: np.ndarray) -> np.ndarray:
    """Shape features (N, 10) of images (N, 28, 28[, 1]): height and width of the ink's box
    (fractions of 20 px), ink mass per box area (fill), total ink, mean and max crossings
    per row and per column, the elongation of the ink (minor / major axis) and how far its long
    axis leans from upright (0 upright, 1 flat)."""
    x = np.asarray(x, np.float32).reshape(-1, 28, 28)
    m = x > INK
    h, w = _extent(m.any(axis=2)), _extent(m.any(axis=1))
    mass = x.sum(axis=(1, 2))
    fill = mass / np.maximum(h * w, 1)
    row_cross = (np.diff(m.astype(np.int8), axis=2) == 1).sum(axis=2)  # (N, 28) strokes met along each row
    col_cross = (np.diff(m.astype(np.int8), axis=1) == 1).sum(axis=1)
    inked_rows, inked_cols = np.maximum(m.any(axis=2).sum(1), 1), np.maximum(m.any(axis=1).sum(1), 1)
    cross = np.stack([row_cross.sum(1) / inked_rows, col_cross.sum(1) / inked_cols,
                      row_cross.max(1), col_cross.max(1)], axis=1)
    return np.column_stack([h / 20, w / 20, fill, mass / 400, cross, *_elongation(x)]).astype(np.float32)


def _extent(any_: np.ndarray) -> np.ndarray:
    first = any_.argmax(axis=1)
    last = any_.shape[1] - 1 - any_[:, ::-1].argmax(axis=1)
    return np.where(any_.any(axis=1), last - first + 1, 0).astype(np.float32)


def _elongation(x: np.ndarray) -> np.ndarray:
    """sqrt(minor / major eigenvalue) of the ink's second moments (0 for a line, 1 for a disk),
    and |sin| of the major axis' angle from the vertical."""
    yy, xx = np.mgrid[:28, :28].astype(np.float32)
    mass = np.maximum(x.sum(axis=(1, 2)), 1e-6)
    my, mx = (x * yy).sum((1, 2)) / mass, (x * xx).sum((1, 2)) / mass
    dy, dx = yy[None] - my[:, None, None], xx[None] - mx[:, None, None]
    a, b, c = (x * dy * dy).sum((1, 2)) / mass, (x * dx * dx).sum((1, 2)) / mass, (x * dx * dy).sum((1, 2)) / mass
    root = np.sqrt(((a - b) / 2) ** 2 + c ** 2)
    major, minor = (a + b) / 2 + root, np.maximum((a + b) / 2 - root, 0)
    lean = np.abs(np.sin(0.5 * np.arctan2(2 * c, a - b)))  # a (y variance) > b: upright, 0
    return np.sqrt(minor / np.maximum(major, 1e-6)), lean


# Images per trunk call. _forward makes one small matrix product per image row and kernel offset, so the
# features do not depend on how the images are grouped; groups of 8 keep each layer's activations in
# cache and cost 30% less CPU than groups of 256 (bench/batch_throughput.py, issue 27).
CHUNK = 8


def _features(x: np.ndarray) -> np.ndarray:
    """The trunk's 128 features and the geometry, side by side (N, 138)."""
    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    trunk = _trunk()
    f = np.concatenate([trunk(x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)]) \
        if len(x) else np.zeros((0, 128), np.float32)
    return np.hstack([f, geometry(x)])


def _trunk():
    """The trunk in NumPy (no TensorFlow: reading with a NumPy model stays TensorFlow-free and never
    writes ~/.keras), loaded once per process."""
    with _lock:
        if "trunk" not in _cache:
            with np.load(TRUNK_FILE) as z:
                layers = [(z[f"w{i}"], z[f"b{i}"], int(z["strides"][i]), bool(z["same"][i]))
                          for i in range(len(z["strides"]))]
            _cache["trunk"] = lambda x: _forward(layers, x)
    return _cache["trunk"]


def _forward(layers: list, x: np.ndarray) -> np.ndarray:
    """Conv (batch norm folded in) + ReLU per layer; the last layer's 1x1 output is the feature vector.

    Every output is the sum of one product per kernel offset, added in the same order whatever the
    layout, so the numbers are those of one matrix product per offset (tests pin them to the last bit)."""
    for w, b, stride, same in layers:
        k = w.shape[0]
        if same:
            x = _pad_same(x, k, stride)
        h, wd = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
        if w.shape[2] == 1:
            out = _first_layer(x, w, h, wd, stride)
        else:  # one matrix product per kernel offset: no k*k-fold copy of the input
            out = np.zeros((len(x), h, wd, w.shape[3]), np.float32)
            product = np.empty_like(out)  # reused: a fresh array per offset cost a fifth of the trunk
            for dy in range(k):
                for dx in range(k):
                    np.matmul(x[:, dy:dy + stride * h:stride, dx:dx + stride * wd:stride], w[dy, dx], out=product)
                    out += product
        out += b
        x = np.maximum(out, 0, out=out)
    return x.reshape(len(x), -1)


def _pad_same(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """TensorFlow's "same" padding: the odd pixel of padding goes after."""
    out = -(-x.shape[1] // stride)
    total = max((out - 1) * stride + k - x.shape[1], 0)
    return np.pad(x, ((0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2), (0, 0)))


def _first_layer(x: np.ndarray, w: np.ndarray, h: int, wd: int, stride: int) -> np.ndarray:
    """A layer on one input channel: each product is a single multiplication, so it is computed channel by
    channel on whole contiguous image planes (long vector loops) rather than as a broadcast over 32
    channels per pixel (2.4x as slow, bench/batch_throughput.py, issue 27). Returns an NHWC view."""
    planes = x[..., 0]
    out = np.empty((w.shape[3], len(x), h, wd), np.float32)
    product = np.empty_like(out)
    for i, (dy, dx) in enumerate(np.ndindex(w.shape[0], w.shape[1])):
        view = np.ascontiguousarray(planes[:, dy:dy + stride * h:stride, dx:dx + stride * wd:stride])
        np.multiply(w[dy, dx, 0][:, None, None, None], view[None], out=out if i == 0 else product)
        if i:
            out += product
    return out.transpose(1, 2, 3, 0)


def export_trunk(net, path: Path = TRUNK_FILE) -> None:
    """Save a Keras conv/batch-norm/ReLU stack (default's network up to its features) as folded NumPy arrays."""
    import keras

    arrays, strides, same = {}, [], []
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in net.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for i, (conv, norm) in enumerate(zip(convs, norms)):
        gamma, beta, mean, var = (np.asarray(v, np.float32) for v in norm.get_weights())
        scale = gamma / np.sqrt(var + norm.epsilon)
        arrays[f"w{i}"] = (np.asarray(conv.get_weights()[0], np.float32) * scale).astype(np.float32)
        arrays[f"b{i}"] = (beta - mean * scale).astype(np.float32)
        strides.append(conv.strides[0])
        same.append(conv.padding == "same")
    np.savez(path, strides=np.array(strides), same=np.array(same), **arrays)


def _head() -> dict:
    """The head's arrays and the calibration record, without TensorFlow (cheap: the pages read it)."""
    with _lock:
        if "head" not in _cache:
            with np.load(HEAD_FILE) as z:
                head = {k: z[k] for k in z.files}
            head["info"] = json.loads(str(head["info"]))
            _cache["head"] = head
    return _cache["head"]


def available() -> bool:
    return TRUNK_FILE.is_file() and HEAD_FILE.is_file()


def info() -> dict:
    """How the thresholds were chosen (what bench/not_a_digit.py --calibrate recorded)."""
    return _head()["info"]


def uncertain_below(default: float = 0.8) -> float:
    """The low-confidence threshold chosen on MNIST's validation split (default when none is shipped)."""
    return float(info()["uncertain_below"]) if HEAD_FILE.is_file() else default


def head_score(feats: np.ndarray, params: dict) -> np.ndarray:
    """P(not a digit) from the two-layer head.

    Each row's score depends on that row alone, to the last bit: a matrix product's rounding changes with
    the number of rows (BLAS blocks them differently), which made an image's borderline answer depend on
    the images beside it in the call. Products and sums along fixed axes add in one fixed order."""
    z = (feats - params["mean"]) / params["std"]
    hidden = np.maximum((z[:, :, None] * params["w1"][None]).sum(axis=1) + params["b1"], 0)
    return 1 / (1 + np.exp(-((hidden * params["w2"][:, 0]).sum(axis=1) + params["b2"][0])))


def rules(g: np.ndarray) -> list:
    """Named reasons from the geometry alone; thresholds none of MNIST's validation digits crosses, nor the
    thick 1s of the scanned forms (optdigits: elongation up to 0.60, where 96% of generated dots are above it)."""
    out = []
    for h, w, fill, mass, rowx, colx, rowmax, colmax, elong, lean in g:
        if mass == 0:
            out.append(f"{REASON} (no ink left after preprocessing)")
        elif elong < 0.25 and lean > 0.8:
            out.append(f"{REASON} (a line lying on its side; a 1 stands upright)")
        elif rowmax == 1 and colmax == 1 and elong > 0.6 and fill > 0.45:  # a scan's thick 1 is 0.42-0.60
            out.append(f"{REASON} (a dot or blob, not a pen stroke)")
        elif fill > 0.85 and min(h, w) > 0.5:  # a straight 1 fills its narrow box too
            out.append(f"{REASON} (the ink fills its box: a scribble or texture)")
        else:
            out.append(None)
    return out


def check(x: np.ndarray) -> list:
    """For each image (N, 28, 28[, 1]) a reason it is not a digit, or None when it may be one."""
    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    if not len(x):
        return []
    feats = _features(x)
    named = rules(feats[:, -10:])
    params = _head()
    score = head_score(feats, params)
    return [r if r else (f"{REASON} (it looks like none of the ten digits)" if s > float(params["threshold"]) else None)
            for r, s in zip(named, score)]


MANY_MARKS = 4  # from this many separate parts, a drawing whose parts are mostly not digits is a pattern


def as_a_whole(reasons: list) -> list:
    """The parts of one drawing judged together: when at least half of MANY_MARKS or more parts are
    not digits, it is a pattern of marks (scattered dots, hatching), not a number with a slip in it."""
    refused = sum(r is not None for r in reasons)
    if len(reasons) >= MANY_MARKS and 2 * refused >= len(reasons):
        return [r or f"{REASON} (one of many separate marks: a pattern or texture, not a number)" for r in reasons]
    return reasons


def fit_head(pos: np.ndarray, neg: np.ndarray, hidden: int = 32, steps: int = 400, seed: int = 0) -> dict:
    """Train the head (full-batch Adam, weighted logistic loss, classes balanced) on features
    of digits (pos) and non-digits (neg). Small and quick: the trunk does the heavy lifting."""
    rng = np.random.default_rng(seed)
    f = np.vstack([pos, neg]).astype(np.float32)
    y = np.r_[np.zeros(len(pos)), np.ones(len(neg))].astype(np.float32)
    weight = np.where(y == 1, len(pos) / len(neg), 1.0).astype(np.float32)
    mean, std = f.mean(0), f.std(0) + 1e-3
    z = (f - mean) / std
    p = {"w1": rng.normal(0, np.sqrt(2 / z.shape[1]), (z.shape[1], hidden)).astype(np.float32),
         "b1": np.zeros(hidden, np.float32), "w2": rng.normal(0, np.sqrt(1 / hidden), (hidden, 1)).astype(np.float32),
         "b2": np.zeros(1, np.float32)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(1, steps + 1):
        a = z @ p["w1"] + p["b1"]
        hdn = np.maximum(a, 0)
        q = 1 / (1 + np.exp(-(hdn @ p["w2"] + p["b2"])[:, 0]))
        d = ((q - y) * weight / weight.sum())[:, None]
        dh = (d @ p["w2"].T) * (a > 0)
        grads = {"w2": hdn.T @ d + 1e-4 * p["w2"], "b2": d.sum(0), "w1": z.T @ dh + 1e-4 * p["w1"], "b1": dh.sum(0)}
        for k, g in grads.items():  # Adam, lr 0.01
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g * g
            p[k] -= 0.01 * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    return {**p, "mean": mean.astype(np.float32), "std": std.astype(np.float32)}


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
