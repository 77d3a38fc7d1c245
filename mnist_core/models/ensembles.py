"""Ensembles: several saved models whose class probabilities are averaged.

An ensemble is a store entry models/<name>/ holding only card.json, with
kind "ensemble" and the names of its members; store.load() returns an
Ensemble, which has LoadedModel's interface (name, card, net, backend,
predict_proba, predict, count_params) plus `members`, so every page, the
CLI and the benchmarks use it like any model. Members stay ordinary models
in the store; an ensemble never contains another ensemble.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from mnist_core import access
from mnist_core.analysis import evaluate

from mnist_core.models import store

KIND = "ensemble"


@dataclass
class Ensemble:
    name: str
    card: dict
    members: list  # LoadedModel, in the card's order
    backend: str = KIND
    _fn: object = field(default=None, repr=False)

    @property
    def net(self):
        """The first member's network, for code that inspects one network (filters, saliency)."""
        return self.members[0].net

    def predict_proba(self, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Mean of the members' probabilities (N, 10) for float32 images (N, 28, 28, 1)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28, 1)
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        if all(m.backend == "keras" for m in self.members):
            fn = self._graph()  # one graph call for all members: one dispatch per image, not one per member
            return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])
        return np.mean([m.predict_proba(x, batch_size) for m in self.members], axis=0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    def count_params(self) -> int:
        return sum(m.count_params() for m in self.members)

    def _graph(self):
        if self._fn is None:
            import tensorflow as tf

            nets = [m.net for m in self.members]
            spec = tf.TensorSpec((None, 28, 28, 1), tf.float32)
            self._fn = tf.function(lambda x: tf.add_n([n(x, training=False) for n in nets]) / len(nets),
                                   input_signature=[spec])
        return self._fn


def is_ensemble(card: dict) -> bool:
    return card.get("kind") == KIND


def member_names(card: dict) -> list[str]:
    members = card.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise store.CorruptModel(f"ensemble '{card.get('name')}' has no valid member list in its card")
    return members


def load(card: dict, root=None) -> Ensemble:
    """The Ensemble for an ensemble card; a missing or broken member is a clear StoreError."""
    name, members = card.get("name"), []
    for member in member_names(card):
        try:
            member_card = store.read_card(member, root)
        except store.ModelNotFound:
            raise store.CorruptModel(f"ensemble '{name}' needs model '{member}', which is not in the store") from None
        if is_ensemble(member_card):
            raise store.CorruptModel(f"ensemble '{name}' lists '{member}', which is itself an ensemble")
        members.append(store.load(member, root))
    return Ensemble(name, card, members)


def create(name: str, members: list[str], root=None, splits=None, description: str | None = None) -> dict:
    """Evaluate the average of `members` on the test set and save it as models/<name>; returns its card."""
    access.require_editor(f"create ensemble '{name}'")
    store.validate_name(name)
    if len(members) < 2:
        raise store.StoreError("an ensemble needs at least two member models")
    if len(set(members)) != len(members):
        raise store.StoreError(f"members are listed twice: {', '.join(sorted({m for m in members if members.count(m) > 1}))}")
    if name in members:
        raise store.StoreError(f"ensemble '{name}' cannot be one of its own members")
    card = {"name": name, "kind": KIND, "members": list(members)}
    model = load(card, root)
    if splits is None:
        from mnist_core.data.mnist import load_splits

        splits = load_splits()
    report = evaluate.evaluate_model(model, splits.x_test, splits.y_test, mistakes_limit=0)
    cards = [m.card for m in model.members]
    card.update(
        backend=KIND, description=description or f"Average of {len(members)} models: {', '.join(members)}.",
        config={"model": KIND, "members": list(members), "augment": any(c.get("config", {}).get("augment") for c in cards)},
        test_accuracy=report["accuracy"], test_loss=report["loss"], test_ci95=report["ci95"],
        confusion=report["confusion"], per_class=report["per_class"], history={},
        member_test_accuracy={c["name"]: c.get("test_accuracy") for c in cards},
        params=model.count_params(), train_seconds=round(sum(c.get("train_seconds") or 0 for c in cards), 3),
        train_size=cards[0].get("train_size"), inference_ms=round(_inference_ms(model, splits.x_test[:1]), 3),
        dataset_sha256=splits.sha256, versions=cards[0].get("versions"),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), run_id=None,
    )
    store.save(name, None, card, root)
    return store.read_card(name, root)


def _inference_ms(model, image: np.ndarray, repeats: int = 30) -> float:
    model.predict_proba(image)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict_proba(image)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)
