"""The held-out test set a model is scored on, chosen by its task.

A digits model is scored on MNIST's 10,000 test images; a shapes model on
the generated shapes' fixed test split (data/shapes.py: its size from
MNIST_STUDIO_SHAPES_SIZES, else SPLIT_SIZES), never on MNIST, whose digits
are none of its classes. Inspect, the cached test predictions
(predictions.py) and the benchmarks read the set through here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_core import tasks


@dataclass(frozen=True)
class HeldOutSet:
    task: tasks.Task
    x: np.ndarray  # (N, 28, 28, 1) float32 in [0, 1]
    y: np.ndarray  # (N,) class indices
    sha256: str  # what cached predictions are checked against
    class_names: tuple
    description: str  # for captions: "MNIST test images"

    @property
    def noun(self) -> str:
        return self.task.noun


def from_mnist(splits) -> HeldOutSet:
    """MNIST's test split from already loaded data.mnist.Splits (its checksum: that of the MNIST files)."""
    return HeldOutSet(tasks.DIGITS_TASK, splits.x_test, np.asarray(splits.y_test), splits.sha256, tasks.DIGITS,
                      tasks.DIGITS_TASK.test_set)


def from_raw_mnist(raw) -> HeldOutSet:
    """MNIST's test split from data.mnist.Mnist as loaded (uint8): the same arrays and checksum as
    from_mnist(make_splits(raw)) without converting the 60,000 training images (Inspect's first visit)."""
    from mnist_core.data import mnist

    return HeldOutSet(tasks.DIGITS_TASK, mnist.to_model_input(raw.x_test), np.asarray(raw.y_test).astype(np.int32),
                      raw.sha256, tasks.DIGITS, tasks.DIGITS_TASK.test_set)


def shapes_test(per_class: int | None = None) -> HeldOutSet:
    """The generated shapes' test split (cached on disk after the first time: about 9 s to draw 1,350)."""
    from mnist_core.data import shapes

    x, y = shapes.load_split("test", per_class)
    x = x.reshape(-1, 28, 28, 1)
    return HeldOutSet(tasks.SHAPES_TASK, x, np.asarray(y), shapes.checksum(x, y), tasks.SHAPES_TASK.classes,
                      tasks.SHAPES_TASK.test_set)


def load(task: str) -> HeldOutSet:
    """The test set of a task; MNIST's may raise data.mnist.MnistLoadError when MNIST is not available."""
    if tasks.get(task) == "shapes":
        return shapes_test()
    from mnist_core.data import mnist

    return from_raw_mnist(mnist.load_mnist())
