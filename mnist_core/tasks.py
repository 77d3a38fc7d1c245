"""The studio's tasks and what their classes are called (models output one probability per class, in this order)."""

from __future__ import annotations

TASKS = ("digits", "shapes")  # MNIST's digits, or generated hand-drawn shapes (data/shapes.py)
DIGITS = tuple("0123456789")


def class_names(task: str = "digits") -> tuple:
    """The names of a task's classes, in the order of the model's outputs."""
    if task == "shapes":
        from mnist_core.data.shapes import CLASSES

        return CLASSES
    return DIGITS


def n_classes(config) -> int:
    """How many outputs a TrainConfig's task needs."""
    return len(class_names(getattr(config, "task", "digits")))
