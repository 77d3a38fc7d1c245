"""Saved models side by side: table rows and learning curves from model cards."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mnist_core.tasks import SHIPPED

COLUMNS = ("name", "origin", "kind", "test_accuracy", "test_loss", "params", "train_seconds", "inference_ms",
           "epochs", "augment", "train_size", "created")


def row(card: dict) -> dict:
    """One table row; a card that could not be read keeps its name and its error."""
    if "error" in card and "test_accuracy" not in card:
        return {"name": card.get("name"), "error": card["error"]}
    config = card.get("config") or {}
    return {
        "name": card.get("name"), "origin": origin(card), "kind": card.get("kind"), "test_accuracy": card.get("test_accuracy"),
        "test_loss": card.get("test_loss"), "params": card.get("params"),
        "train_seconds": card.get("train_seconds"), "inference_ms": card.get("inference_ms"),
        "epochs": card.get("epochs_trained", config.get("epochs")), "augment": bool(config.get("augment", False)),
        "train_size": card.get("train_size"), "created": _minutes(card.get("created")), "error": None,
    }


ORIGINS = ("shipped", "trained", "fine-tuned", "sweep trial", "ensemble", "imported")


def origin(card: dict) -> str:
    """Where a saved model came from, so that lists can hide experiments (sweep trials, fine-tunes)."""
    name = card.get("name") or ""
    if name.removesuffix("-previous") in SHIPPED.values():  # the shipped models and what promote kept
        return "shipped"
    if card.get("imported"):
        return "imported"
    if card.get("backend") == "ensemble" or card.get("members"):
        return "ensemble"
    if card.get("sweep"):
        return "sweep trial"
    return "fine-tuned" if card.get("finetune") else "trained"


def chosen(rows: list[dict], origins=ORIGINS, at_least: float = 0.0) -> list[dict]:
    """The rows a list shows: of the chosen origins and at least `at_least` test accuracy. The shipped
    models every page reads with, and unreadable models (to be deleted), always stay."""
    return [r for r in rows if r.get("error") or r.get("origin") == "shipped"
            or (r.get("origin") in origins and (r.get("test_accuracy") or 0.0) >= at_least)]


def _minutes(stamp: str | None) -> str | None:
    """'2026-11-23T08:15:00+0000' -> '2026-11-23 08:15' (the card keeps the full stamp)."""
    return stamp[:16].replace("T", " ") if isinstance(stamp, str) else stamp


def rows(cards: list[dict]) -> list[dict]:
    """Rows for every card, best test accuracy first, unreadable models last."""
    out = [row(c) for c in cards]
    return sorted(out, key=lambda r: (r.get("test_accuracy") is None, -(r.get("test_accuracy") or 0), r["name"] or ""))


def top(rows: list[dict], n: int, keep=()) -> list[dict]:
    """The best n rows and, below them, every row named in `keep` that did not make it (the shipped
    `default` every page reads with stays listed, even after a weaker model was promoted to it)."""
    head = rows[:n]
    return head + [r for r in rows[n:] if r.get("name") in keep]


def display(rows: list[dict], columns) -> pd.DataFrame:
    """Rows as the pages show them: accuracy in percent with two decimals (99.70 beside 99.71, never
    99.7), whole epochs, and "—" where a model has none (an ensemble) instead of "None"."""
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns))
    if "test_accuracy" in frame:
        frame["test_accuracy"] = [round(100 * a, 2) if a is not None else None for a in frame["test_accuracy"]]
    if "epochs" in frame:
        frame["epochs"] = ["—" if e is None or (isinstance(e, float) and math.isnan(e)) else str(int(e))
                           for e in frame["epochs"]]
    return frame


def curves(card: dict) -> dict[str, list[float]]:
    """Per-epoch history of a card: epoch, loss, accuracy, val_loss, val_accuracy."""
    history = card.get("history") or {}
    n = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
    out: dict[str, list[float]] = {"epoch": [float(i + 1) for i in range(n)]}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = list(history.get(key) or [])
        out[key] = [float(v) if v is not None else math.nan for v in values] + [math.nan] * (n - len(values))
    return out


def of_task(rows: list[dict], tasks: dict, task: str) -> list[dict]:
    """The rows of models of `task` ({name: task}: tasks.tasks_by_name); unreadable models are in every task's list."""
    return [r for r in rows if tasks.get(r.get("name"), task) == task]


def by_class(card: dict) -> dict | None:
    """A card's test results per class, classes by name: {names, noun, confusion (rows true, columns
    predicted), per_class (table rows)}; None for a card without a confusion matrix (an ensemble's)."""
    from mnist_core.analysis import evaluate
    from mnist_core.models.loading import card_class_names
    from mnist_core.tasks import of_card

    cm = card.get("confusion")
    if not isinstance(cm, list) or not cm or any(not isinstance(r, list) or len(r) != len(cm) for r in cm):
        return None
    names = card_class_names(card)
    names = names if len(names) == len(cm) else [str(k) for k in range(len(cm))]
    what = of_card(card).noun
    rows = evaluate.per_class(np.asarray(cm, dtype=np.int64))
    return {"names": names, "noun": what, "confusion": [[int(v) for v in r] for r in cm],
            "per_class": evaluate.per_class_table(rows, names, what)}
