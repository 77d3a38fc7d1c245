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

Promoting replaces the model every page reads with, so it is never silent:
`plan` compares the winner with the model it would replace (validation and
test accuracy, and the difference), `promote` refuses a winner that is worse
(by validation accuracy when both models have one, else by test accuracy)
unless told force=True, and keeps the model it replaces as `<target>-previous`,
which `restore` brings back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from mnist_core import access, tasks
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


class WorseThanCurrent(store.StoreError):
    """The candidate reads worse than the model it would replace; promote(force=True) replaces it anyway."""

    def __init__(self, message: str, comparison: "Comparison"):
        super().__init__(message)
        self.comparison = comparison


@dataclass(frozen=True)
class Scores:
    """One side of a comparison: a model's last-epoch validation accuracy (None without a validation
    split: a model trained on all 60,000 images, an ensemble) and its test accuracy."""
    name: str
    val_accuracy: float | None
    test_accuracy: float | None
    task: tasks.Task

    @classmethod
    def of(cls, card: dict, name: str | None = None) -> "Scores":
        acc = (card.get("history") or {}).get("val_accuracy") or []
        val = float(acc[-1]) if acc and isinstance(acc[-1], (int, float)) else None
        test = card.get("test_accuracy")
        return cls(name or card.get("name"), val, float(test) if isinstance(test, (int, float)) else None,
                   tasks.of_card(card))


@dataclass(frozen=True)
class Comparison:
    """The candidate beside the model it would replace (current None: the target does not exist yet).

    metric: "validation" when both have a validation accuracy, else "test" when both have a test
    accuracy, else None (nothing to compare). worse: the candidate is lower on that metric.
    """
    target: str
    candidate: Scores
    current: Scores | None
    metric: str | None
    val_difference: float | None  # candidate minus current, as fractions (0.01 = one point)
    test_difference: float | None
    worse: bool

    def to_json(self) -> dict:
        return asdict(self)

    def table(self, roles: tuple[str, str] = ("candidate", "current")) -> list[dict]:
        """The comparison as rows for a table or a terminal: {model, validation, test} as text, the candidate,
        the current model and their difference in points ('-' where a figure is missing); `roles` are the
        words after the two names."""
        def pct(v):
            return "—" if v is None else f"{v:.2%}"

        rows = [{"model": f"{self.candidate.name} ({roles[0]})", "validation": pct(self.candidate.val_accuracy),
                 "test": pct(self.candidate.test_accuracy)}]
        if self.current is not None:
            rows += [{"model": f"{self.target} ({roles[1]})", "validation": pct(self.current.val_accuracy),
                      "test": pct(self.current.test_accuracy)},
                     {"model": "difference", "validation": points(self.val_difference) or "—",
                      "test": points(self.test_difference) or "—"}]
        return rows

    def describe(self) -> str:
        """One line: how the candidate compares with the current model."""
        if self.current is None:
            return f"'{self.target}' does not exist yet: '{self.candidate.name}' becomes it"
        if self.metric is None:
            return (f"'{self.candidate.name}' and the current '{self.target}' share no accuracy to compare "
                    "(neither validation nor test)")
        field = "val_accuracy" if self.metric == "validation" else "test_accuracy"
        mine, theirs = getattr(self.candidate, field), getattr(self.current, field)
        return (f"'{self.candidate.name}' has {self.metric} accuracy {mine:.2%} against {theirs:.2%} for the "
                f"current '{self.target}' ({points(mine - theirs)})")


def points(difference: float | None) -> str:
    """A difference of accuracies in percentage points: '+0.12 points', '-29.12 points'."""
    return "" if difference is None else f"{difference * 100:+.2f} points"


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def compare(candidate: dict, current: dict | None, target: str) -> Comparison:
    """Compare a candidate's card with the card of the model it would replace (None: there is none)."""
    mine = Scores.of(candidate)
    if current is None:
        return Comparison(target, mine, None, None, None, None, False)
    theirs = Scores.of(current, target)
    val, test = _difference(mine.val_accuracy, theirs.val_accuracy), _difference(mine.test_accuracy,
                                                                                  theirs.test_accuracy)
    metric, difference = ("validation", val) if val is not None else ("test", test) if test is not None \
        else (None, None)
    return Comparison(target, mine, theirs, metric, val, test, bool(difference is not None and difference < 0))


def _choose(names: list[str], root) -> tuple[list[dict], str]:
    if len(set(names)) == 1:  # nothing to rank: a model trained without a validation split can be shipped too
        card = {**store.read_card(names[0], root), "name": names[0]}
        rows = [validation_scores(card)] if (card.get("history") or {}).get("val_accuracy") else [{"name": names[0]}]
        return rows, SINGLE
    return rank(names, root), RULE


def plan(names: list[str], target: str = "default", root=None) -> dict:
    """What promote would do, writing nothing: {chosen, candidates, rule, comparison (Comparison), previous
    (where the replaced model would be kept, None when there is none to keep)}."""
    store.validate_name(target)
    if not names:
        raise store.StoreError("name at least one candidate model")
    if target in names:
        raise store.StoreError(f"'{target}' cannot be both a candidate and the destination")
    previous = store.previous_name(target)
    if previous in names:
        raise store.StoreError(f"'{previous}' is the model promote kept when it replaced '{target}': bring it "
                               f"back with `python -m mnist_core restore {target}` (or Restore on the Models page)")
    rows, rule = _choose(names, root)
    chosen = rows[0]["name"]
    candidate = {**store.read_card(chosen, root), "name": chosen}
    current = store.read_card(target, root) if store.exists(target, root) else None
    comparison = compare(candidate, current, target)
    shipped_task = next((t for t, n in tasks.SHIPPED.items() if n == target), None)
    wanted = current and comparison.current.task or shipped_task
    if wanted and comparison.candidate.task != wanted:
        raise store.StoreError(f"'{chosen}' reads {comparison.candidate.task} and '{target}' reads {wanted}: "
                               "a model is only ever replaced by one of the same task")
    return {"chosen": chosen, "candidates": rows, "rule": rule, "comparison": comparison,
            "previous": previous if current is not None else None}


def promote(names: list[str], target: str = "default", root=None, force: bool = False) -> dict:
    """Copy the best candidate by validation to models/<target>, keeping the model it replaces as
    <target>-previous; refuses (WorseThanCurrent) a candidate worse than that model unless force.

    Returns plan()'s dict with the new card."""
    access.require_editor(f"promote a model to '{target}'")
    result = plan(names, target, root)
    comparison, chosen, previous = result["comparison"], result["chosen"], result["previous"]
    if comparison.worse and not force:
        raise WorseThanCurrent(f"{comparison.describe()}: it reads worse, so '{target}' was left as it is; "
                               "promote it anyway with --force", comparison)
    if previous:
        store.copy(target, previous, {"kept": {"replaced_by": chosen, "at": timestamp()}}, root)
    source = store.read_card(chosen, root)
    updates = {"promoted_from": chosen, "trained_as": source.get("trained_as") or chosen, "kept": None,
               "selection": {"rule": result["rule"], "candidates": result["candidates"], "at": timestamp(),
                             "replaced": comparison.to_json()["current"], "forced": bool(comparison.worse)}}
    store.copy(chosen, target, updates, root)
    return {**result, "card": store.read_card(target, root)}


def restorable(target: str = "default", root=None) -> dict | None:
    """The card of the model promote kept when it last replaced `target` (None when there is none)."""
    previous = store.previous_name(target)
    return store.read_card(previous, root) if store.exists(previous, root) else None


def restore(target: str = "default", root=None) -> dict:
    """Put <target>-previous back as <target> (undoing the last promote); returns {target, restored_from,
    replaced (the name the replaced model was promoted from, None if unknown), still_saved, card}."""
    access.require_editor(f"restore '{target}'")
    previous = store.previous_name(target)
    if not store.exists(previous, root):
        raise store.ModelNotFound(f"no '{previous}' to restore: promote keeps the model it replaces there, "
                                  f"and nothing was promoted over '{target}'")
    replaced = store.read_card(target, root).get("promoted_from") if store.exists(target, root) else None
    store.copy(previous, target, {"kept": None, "restored": {"from": previous, "at": timestamp()}}, root)
    return {"target": target, "restored_from": previous, "replaced": replaced,
            "still_saved": bool(replaced and store.exists(replaced, root)), "card": store.read_card(target, root)}
