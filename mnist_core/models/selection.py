"""Choosing among trained models with the validation split, never the test set.

The 10,000 test images are for the final, reported figure only: a model
picked for its test accuracy would report an optimistic one. `rank` orders
candidates by the validation accuracy of their last epoch (the weights that
were saved), then by validation loss, since on 5,000 images one image is
0.02% and ties are common. `promote` copies the winner into the store under
another name (the shipped `default`) and records the choice in its card.
"""

from __future__ import annotations

import math

from mnist_core import access
from mnist_core.models import store
from mnist_core.models.card import timestamp

RULE = "highest last-epoch validation accuracy, ties broken by lowest validation loss (test set not consulted)"


def validation_scores(card: dict) -> dict:
    """Last-epoch validation accuracy and loss from a card's history."""
    history = card.get("history") or {}
    acc, loss = history.get("val_accuracy") or [], history.get("val_loss") or []
    if not acc or acc[-1] is None:
        raise store.StoreError(f"model '{card.get('name')}' has no validation history "
                               "(ensembles and runs without a validation split cannot be ranked)")
    val_loss = float(loss[-1]) if loss and loss[-1] is not None else math.inf
    return {"name": card.get("name"), "val_accuracy": float(acc[-1]), "val_loss": val_loss, "epochs": len(acc)}


def rank(names: list[str], root=None) -> list[dict]:
    """Validation scores of the named models, best first."""
    if not names:
        raise store.StoreError("name at least one candidate model")
    rows = [validation_scores({**store.read_card(n, root), "name": n}) for n in dict.fromkeys(names)]
    return sorted(rows, key=lambda r: (-r["val_accuracy"], r["val_loss"], r["name"]))


def promote(names: list[str], target: str = "default", root=None) -> dict:
    """Copy the best candidate by validation to models/<target>; returns the ranking and the new card."""
    access.require_editor(f"promote a model to '{target}'")
    store.validate_name(target)
    if target in names:
        raise store.StoreError(f"'{target}' cannot be both a candidate and the destination")
    rows = rank(names, root)
    chosen = rows[0]["name"]
    source = store.read_card(chosen, root)
    updates = {"promoted_from": chosen, "trained_as": source.get("trained_as") or chosen,
               "selection": {"rule": RULE, "candidates": rows, "at": timestamp()}}
    store.copy(chosen, target, updates, root)
    return {"chosen": chosen, "candidates": rows, "card": store.read_card(target, root)}
