"""Choosing among trained models with the validation split, never the test set.

The 10,000 test images are for the final, reported figure only: a model
picked for its test accuracy would report an optimistic one. `rank` orders
candidates by the validation accuracy of their last epoch (the weights that
were saved), then by validation loss, since on 5,000 images one image is
0.02% and ties are common. `promote` copies the winner into the store under
another name (the shipped `default`) and records the choice in its card; a
single candidate (a fixed recipe trained on all 60,000 training images, with no
validation split to rank by) is copied as it is, and its card says nothing was
selected.
"""

from __future__ import annotations

import math

from mnist_core import access
from mnist_core.models import store
from mnist_core.models.card import timestamp

RULE = "highest last-epoch validation accuracy, ties broken by lowest validation loss (test set not consulted)"
SINGLE = "one candidate: nothing was selected (a fixed recipe, possibly trained on all 60,000 images)"


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
    if len(set(names)) == 1:  # nothing to rank: a model trained without a validation split can be shipped too
        card = {**store.read_card(names[0], root), "name": names[0]}
        rows = [validation_scores(card)] if (card.get("history") or {}).get("val_accuracy") else [{"name": names[0]}]
        rule = SINGLE
    else:
        rows, rule = rank(names, root), RULE
    chosen = rows[0]["name"]
    source = store.read_card(chosen, root)
    updates = {"promoted_from": chosen, "trained_as": source.get("trained_as") or chosen,
               "selection": {"rule": rule, "candidates": rows, "at": timestamp()}}
    store.copy(chosen, target, updates, root)
    return {"chosen": chosen, "candidates": rows, "rule": rule, "card": store.read_card(target, root)}
