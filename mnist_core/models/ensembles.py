"""Creating ensembles: several saved models whose class probabilities are averaged.

An ensemble is a store entry models/<name>/ holding only card.json, with
kind "ensemble" and the names of its members; loading.load() returns it as
an Ensemble, which predicts like any model. Members stay ordinary models in
the store; an ensemble never contains another ensemble.
"""

from __future__ import annotations

from mnist_core import access
from mnist_core.models import card as model_card
from mnist_core.models import loading, store


def create(name: str, members: list[str], root=None, splits=None, description: str | None = None,
           replace: bool = False) -> dict:
    """Evaluate the average of `members` on the test set and save it as models/<name>; returns its card.

    The name follows the store's rule (store.check_new_name): a saved name is replaced only with replace=True."""
    access.require_editor(f"create ensemble '{name}'")
    store.validate_name(name)
    if len(members) < 2:
        raise store.StoreError("an ensemble needs at least two member models")
    if len(set(members)) != len(members):
        raise store.StoreError(f"members are listed twice: {', '.join(sorted({m for m in members if members.count(m) > 1}))}")
    if name in members:
        raise store.StoreError(f"ensemble '{name}' cannot be one of its own members")
    store.check_new_name(name, replace=replace, root=root)
    card = {"name": name, "kind": loading.ENSEMBLE, "members": list(members)}
    model = loading.load_ensemble(card, root)
    task = _one_task(model.members)
    if splits is None:
        splits = _test_split(task)
    cards = [m.card for m in model.members]
    card.update(
        task=task, class_names=list(model.members[0].class_names), backend=loading.ENSEMBLE,
        description=description or f"Average of {len(members)} models: {', '.join(members)}.",
        config={"model": loading.ENSEMBLE, "members": list(members),
                "augment": any(c.get("config", {}).get("augment") for c in cards)},
        **model_card.evaluation_fields(model, splits), history={},
        member_test_accuracy={c["name"]: c.get("test_accuracy") for c in cards},
        params=model.count_params(), train_seconds=round(sum(c.get("train_seconds") or 0 for c in cards), 3),
        train_size=cards[0].get("train_size"), versions=cards[0].get("versions"), run_id=None,
    )
    store.save(name, None, card, root)
    return store.read_card(name, root)


def _one_task(members) -> str:
    """Averaging probabilities only means something over the same classes: every member of one task."""
    found = {m.name: m.task for m in members}
    if len(set(found.values())) > 1:
        listed = ", ".join(f"'{n}' ({t})" for n, t in found.items())
        raise store.StoreError(f"an ensemble's members must all read the same task; these mix them: {listed}")
    return next(iter(found.values()))


def _test_split(task: str):
    """The task's held-out test set, shaped as evaluation_fields reads it (x_test, y_test, sha256)."""
    from types import SimpleNamespace

    from mnist_core.analysis import testset

    held = testset.load(task)
    return SimpleNamespace(x_test=held.x, y_test=held.y, sha256=held.sha256)
