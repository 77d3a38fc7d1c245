"""Softmax regression and MLPs written from scratch in NumPy.

Forward and backward passes are explicit so users can read them; there is
no TensorFlow here. Hidden layers use ReLU, the output a softmax, the loss
is mean cross-entropy, and training is mini-batch SGD with momentum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ARCHITECTURES = {"numpy_softmax": (784, 10), "numpy_mlp": (784, 256, 128, 64, 10)}


class NumpyNet:
    """A fully connected net: ReLU hidden layers, softmax output."""

    def __init__(self, sizes, seed: int = 0, dtype=np.float32, momentum: float = 0.9):
        self.sizes = tuple(int(s) for s in sizes)
        self.momentum = momentum
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            # He initialisation keeps ReLU activations from shrinking layer by layer.
            scale = np.sqrt(2.0 / fan_in) if len(self.sizes) > 2 else 0.01
            self.weights.append((rng.standard_normal((fan_in, fan_out)) * scale).astype(dtype))
            self.biases.append(np.zeros(fan_out, dtype=dtype))
        self._velocity = [np.zeros_like(p) for p in self.params()]

    def params(self) -> list[np.ndarray]:
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params()))

    @staticmethod
    def _flat(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        return x.reshape(len(x), int(np.prod(x.shape[1:])))  # not -1: that fails on an empty batch

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Class probabilities and the activations the backward pass needs."""
        a = self._flat(x).astype(self.weights[0].dtype, copy=False)
        activations = [a]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ w + b
            a = np.maximum(z, 0) if i < len(self.weights) - 1 else z
            activations.append(a)
        logits = activations[-1]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True), activations

    def predict_proba(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        x = self._flat(x)
        return np.concatenate([self.forward(x[i:i + batch_size])[0] for i in range(0, len(x), batch_size)]) \
            if len(x) else np.zeros((0, self.sizes[-1]), np.float32)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        probs, _ = self.forward(x)
        return float(-np.mean(np.log(probs[np.arange(len(y)), y] + 1e-12)))

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, list[np.ndarray]]:
        """Loss, probabilities and d(loss)/d(param) for every parameter, by backprop."""
        probs, acts = self.forward(x)
        n = len(y)
        loss = float(-np.mean(np.log(probs[np.arange(n), y] + 1e-12)))
        delta = probs.copy()
        delta[np.arange(n), y] -= 1  # d(mean CE)/d(logits) = (softmax - onehot) / n
        delta /= n
        grads: list[np.ndarray] = []
        for i in range(len(self.weights) - 1, -1, -1):
            grads = [acts[i].T @ delta, delta.sum(axis=0)] + grads
            if i > 0:
                delta = (delta @ self.weights[i].T) * (acts[i] > 0)
        return loss, probs, grads

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> tuple[float, float]:
        """One SGD-with-momentum step; returns the batch loss and accuracy."""
        loss, probs, grads = self.gradients(x, y)
        for p, g, v in zip(self.params(), grads, self._velocity):
            v *= self.momentum
            v -= lr * g
            p += v
        return loss, float(np.mean(probs.argmax(axis=1) == y))

    def save(self, path: Path) -> None:
        arrays = {f"p{i}": p for i, p in enumerate(self.params())}
        with open(path, "wb") as fh:  # a file handle stops numpy appending '.npz'
            np.savez(fh, sizes=np.array(self.sizes), **arrays)

    @classmethod
    def load(cls, path: Path) -> "NumpyNet":
        with np.load(path, allow_pickle=False) as data:
            net = cls(data["sizes"].tolist())
            params = [data[f"p{i}"] for i in range(2 * (len(net.sizes) - 1))]
        for i in range(len(net.weights)):
            if params[2 * i].shape != net.weights[i].shape or params[2 * i + 1].shape != net.biases[i].shape:
                raise ValueError("parameter shapes do not match the stored layer sizes")
            net.weights[i], net.biases[i] = params[2 * i].astype(np.float32), params[2 * i + 1].astype(np.float32)
        net._velocity = [np.zeros_like(p) for p in net.params()]
        return net


def build(config) -> NumpyNet:
    from mnist_core.tasks import n_classes

    sizes = config.extra.get("sizes", ARCHITECTURES[config.model][:-1] + (n_classes(config),))
    return NumpyNet(sizes, seed=config.seed, momentum=0.0 if config.model == "numpy_softmax" else 0.9)
