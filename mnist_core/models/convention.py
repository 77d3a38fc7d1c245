"""An imported model's input convention: layout, pixel scale, polarity, and whether it outputs logits.

The studio's own images are float32 (N, 28, 28, 1) in [0, 1], a white digit
on black. A model from elsewhere may want (N, 1, 28, 28) or (N, 784), pixels
0-255 or normalised with MNIST's mean and standard deviation, dark ink on
white, and may return logits instead of probabilities. Importing works that
out once (models/importing.py) and writes it on the card; the loader applies
it here, so no caller ever thinks about it:

- `to_native(x)` turns studio images into what the model reads (NumPy, for
  onnxruntime and LiteRT), and `keras_layers()` does the same as built-in
  Keras layers (Rescaling, Reshape, Permute), so a Keras import becomes one
  Keras graph reading studio images (saliency and feature maps included);
- `to_probs(out)` applies the softmax when the model returns logits.

No TensorFlow at import time: only keras_layers() imports Keras.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from mnist_core.errors import UserError

# Layout names (what --input accepts) -> the shape of one image, without the batch dimension.
LAYOUTS = {"28x28x1": (28, 28, 1), "1x28x28": (1, 28, 28), "28x28": (28, 28), "784": (784,)}
LAYOUT_WORDS = {"28x28x1": "28x28x1 (channels last, as Keras)", "1x28x28": "1x28x28 (channels first, as PyTorch)",
                "28x28": "28x28 (no channel axis)", "784": "784 (flattened)"}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# Scale names (what --scale accepts) -> (a, b): the model reads a * pixel + b for a pixel in [0, 1].
SCALES = {"0-1": (1.0, 0.0), "0-255": (255.0, 0.0), "mnist-norm": (1.0 / MNIST_STD, -MNIST_MEAN / MNIST_STD)}
SCALE_WORDS = {"0-1": "pixels 0-1", "0-255": "pixels 0-255",
               "mnist-norm": f"pixels normalised with MNIST's mean {MNIST_MEAN} and std {MNIST_STD}"}
OUTPUTS = ("probs", "logits")


class ConventionError(UserError, ValueError):
    """A convention that names an unknown layout, scale or output kind."""


@dataclass(frozen=True)
class Convention:
    input: str = "28x28x1"
    scale: str = "0-1"
    invert: bool = False
    outputs: str = "probs"

    def __post_init__(self):
        if self.input not in LAYOUTS:
            raise ConventionError(f"unknown input layout {self.input!r}; accepted: {', '.join(LAYOUTS)}")
        if self.scale not in SCALES:
            raise ConventionError(f"unknown pixel scale {self.scale!r}; accepted: {', '.join(SCALES)}")
        if self.outputs not in OUTPUTS:
            raise ConventionError(f"unknown outputs {self.outputs!r}; accepted: {', '.join(OUTPUTS)}")
        if not isinstance(self.invert, bool):
            raise ConventionError(f"invert must be true or false, got {self.invert!r}")

    @classmethod
    def from_dict(cls, data) -> "Convention":
        if not isinstance(data, dict):
            raise ConventionError(f"a convention is a JSON object, got {type(data).__name__}")
        unknown = set(data) - {"input", "scale", "invert", "outputs"}
        if unknown:
            raise ConventionError(f"unknown convention field(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def shape(self) -> tuple:
        return LAYOUTS[self.input]

    def affine(self) -> tuple[float, float]:
        """(a, b) with native pixel = a * studio pixel + b; inverting first (1 - x) folds into it."""
        a, b = SCALES[self.scale]
        return (-a, a + b) if self.invert else (a, b)

    @property
    def identity(self) -> bool:
        """The studio's own convention: nothing to do."""
        return self == Convention()

    def to_native(self, x: np.ndarray) -> np.ndarray:
        """Studio images (N, 28, 28, 1) in [0, 1] -> float32 in the model's layout, scale and polarity."""
        x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
        a, b = self.affine()
        if (a, b) != (1.0, 0.0):
            x = x * np.float32(a) + np.float32(b)
        return np.ascontiguousarray(x.reshape((len(x),) + self.shape), dtype=np.float32)

    def to_probs(self, out: np.ndarray) -> np.ndarray:
        out = np.asarray(out, np.float32).reshape(len(out), -1)
        return softmax(out) if self.outputs == "logits" else out

    def keras_layers(self) -> list:
        """Built-in Keras layers doing to_native on (N, 28, 28, 1) tensors (nothing for the studio's own)."""
        import keras

        layers = []
        a, b = self.affine()
        if (a, b) != (1.0, 0.0):
            layers.append(keras.layers.Rescaling(a, b, name="studio_import_scale"))
        if self.input == "1x28x28":
            layers.append(keras.layers.Permute((3, 1, 2), name="studio_channels_first"))
        elif self.input != "28x28x1":
            layers.append(keras.layers.Reshape(self.shape, name="studio_import_layout"))
        return layers

    def describe(self) -> dict:
        """One phrase per part, for the CLI and the Models page."""
        return {"input": LAYOUT_WORDS[self.input], "scale": SCALE_WORDS[self.scale],
                "polarity": "dark digit on white (inverted)" if self.invert else "white digit on black (as MNIST)",
                "outputs": "logits (softmax applied)" if self.outputs == "logits" else "probabilities"}


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def layouts_for(dims) -> list[str]:
    """The layouts an input shape (without its batch dimension) allows; None or -1 is a free dimension."""
    free = [d is None or (isinstance(d, (int, np.integer)) and d < 0) or isinstance(d, str) for d in dims]
    return [name for name, shape in LAYOUTS.items() if len(shape) == len(dims)
            and all(f or int(d) == s for d, f, s in zip(dims, free, shape))]


def shape_text(dims) -> str:
    """(batch, 1, 28, 28) for an input shape without its batch dimension (free ones as '?')."""
    shown = ["?" if d is None or isinstance(d, str) or (isinstance(d, (int, np.integer)) and d < 0) else str(int(d))
             for d in dims]
    return "(" + ", ".join(["batch", *shown]) + ")"


def accepted_shapes() -> str:
    return ", ".join(shape_text(s) for s in LAYOUTS.values())


def looks_like_probabilities(out: np.ndarray, tolerance: float = 1e-3) -> tuple[bool, str]:
    """Whether every row is a probability distribution (within tolerance), and the evidence in words."""
    out = np.asarray(out, np.float64).reshape(len(out), -1)
    sums = out.sum(axis=1)
    ok = bool(len(out)) and bool(np.all(out >= -tolerance)) and bool(np.all(np.abs(sums - 1) <= tolerance))
    evidence = (f"rows sum to {_span(sums.min(), sums.max())}, values {out.min():.3g} to {out.max():.3g}"
                if len(out) else "no rows")
    return ok, evidence


def _span(lo: float, hi: float) -> str:
    return f"{lo:.3f}" if abs(hi - lo) < 5e-4 else f"{lo:.3g} to {hi:.3g}"


def keras_adapted(net, convention: Convention):
    """One Keras model reading studio images and returning probabilities: the convention's layers, then
    `net`'s own layers, then a softmax when it returns logits. The same model for the studio's convention.

    `net`'s layers are re-created from their configs and given its weights, in one flat graph, so that
    Inspect finds its convolutions, feature maps and saliency as for a model trained here; a graph that
    cannot be re-run that way is called as one nested layer (predictions are the same).
    """
    if convention.identity:
        return net
    import keras

    image = keras.Input((28, 28, 1), name="studio_image")
    x = image
    for layer in convention.keras_layers():
        x = layer(x)
    try:
        x, clones = _rerun(net, x)
    except Exception:  # noqa: BLE001 - an unusual graph: keep it whole
        x, clones = net(x), {}
    if convention.outputs == "logits":
        x = keras.layers.Softmax(name="studio_softmax")(x)
    model = keras.Model(image, x, name=f"{net.name}_studio"[:60])
    for old, new in clones.values():
        new.set_weights(old.get_weights())
    return model


def _rerun(net, x):
    """(output, {id: (old layer, new layer)}): net's graph run on x with fresh copies of its layers."""
    import keras

    clones = {}

    def fresh(layer):
        if id(layer) not in clones:
            clones[id(layer)] = (layer, layer.__class__.from_config(layer.get_config()))
        return clones[id(layer)][1]

    if isinstance(net, keras.Sequential):
        for layer in net.layers:
            x = fresh(layer)(x)
        return x, clones
    if not hasattr(net, "_run_through_graph"):
        raise TypeError("not a functional model")
    return net._run_through_graph(x, operation_fn=fresh), clones  # noqa: SLF001 - Keras' own clone does this
