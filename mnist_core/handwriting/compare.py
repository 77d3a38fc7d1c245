"""One drawing read by every saved model of a task: the Draw page's comparison."""

from __future__ import annotations

import numpy as np

from mnist_core.models.store import StoreError
from mnist_core.tasks import DIGITS_TASK, tasks_by_name

COMPARE_LIMIT = 12  # the models with the best test accuracy


def every_model_reads(x: np.ndarray, cards: list, load, limit: int = COMPARE_LIMIT, task: str = "digits") -> list:
    """How each saved model of `task` reads the same prepared inputs x (N, 28, 28, 1), best test accuracy first.

    cards: the store's model cards; load: name -> model (the dashboard passes
    its cached loader). One row per model, at most `limit`: {model, reads (the
    digits as a string; a shape's name), confidence (of the input it is least sure of),
    test_accuracy}, or {model, problem} for a model that cannot be loaded."""
    of_task = tasks_by_name(cards)  # an unreadable card is listed with the digits, as its problem
    rows = []
    for card in sorted([c for c in cards if of_task.get(c.get("name"), DIGITS_TASK) == task],
                       key=lambda c: -(c.get("test_accuracy") or 0))[:limit]:
        try:
            model = load(card["name"])
            probs = model.predict_proba(x)
        except StoreError as exc:
            rows.append({"model": card["name"], "reads": None, "confidence": None, "problem": str(exc)})
            continue
        classes = model.task.classes
        reads = (", " if model.task.named else "").join(classes[k] for k in probs.argmax(axis=1))
        rows.append({"model": card["name"], "reads": reads, "confidence": float(probs.max(axis=1).min()),
                     "test_accuracy": card.get("test_accuracy")})
    return rows
