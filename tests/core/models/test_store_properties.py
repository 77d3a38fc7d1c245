"""Property: for any sequence of saves, overwrites and deletes, each killed at any step or not,
every name resolves to a complete old or new model, and the next writer leaves nothing hidden behind.

A kill is simulated by raising at one of the store's renames, removals or
model-file writes and failing every later one too, so no clean-up runs
(as with SIGKILL). Tiny NumPy nets keep each example fast.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_core.models import loading, store
from mnist_core.models.numpy_nets import NumpyNet

NAMES = ("a", "b", "c")


class Killed(BaseException):
    """Not an Exception: nothing in the store may catch it, as nothing can catch SIGKILL."""


class Killer:
    """Counts the store's steps; at step `at` the process 'dies' and every later step fails too."""

    def __init__(self, root: Path):
        self.root, self.at, self.count, self.dead = root, None, 0, False

    def arm(self, at: int | None) -> None:
        self.at, self.count, self.dead = at, 0, False

    def step(self) -> None:
        if self.dead or self.count == self.at:
            self.dead = True
            raise Killed()
        self.count += 1

    def wrap(self, real):
        def call(path, *args, **kwargs):
            if Path(path).is_relative_to(self.root):
                self.step()
            return real(path, *args, **kwargs)
        return call


class Net(NumpyNet):
    """A NumpyNet whose save can be killed half-way through writing its file."""

    killer: Killer

    def save(self, path):
        self.killer.step()
        Path(path).write_bytes(b"half a model")
        self.killer.step()
        super().save(path)


def net(version: int) -> Net:
    return Net((784, 2, 10), seed=version)


@contextmanager
def killable_store():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "models"
        killer = Killer(root)
        Net.killer = killer
        with mock.patch.object(os, "replace", killer.wrap(os.replace)), \
                mock.patch.object(os, "rename", killer.wrap(os.rename)), \
                mock.patch.object(shutil, "rmtree", killer.wrap(shutil.rmtree)):
            yield root, killer


def observe(root: Path) -> dict:
    """name -> version for every name, each model loaded and checked against its version's weights."""
    seen = {}
    listed = store.list_names(root)
    for name in NAMES:
        try:
            model = loading.load(name, root)
        except store.ModelNotFound:
            assert name not in listed
            continue
        assert name in listed
        np.testing.assert_array_equal(model.net.weights[0], net(model.card["v"]).weights[0])
        seen[name] = model.card["v"]
    return seen


OPS = st.lists(st.tuples(st.sampled_from(["save", "delete"]), st.sampled_from(NAMES),
                         st.none() | st.integers(0, 6)), max_size=8)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_every_name_resolves_to_a_complete_old_or_new_model(ops):
    with killable_store() as (root, killer):
        state = {}
        for version, (op, name, kill_at) in enumerate(ops, start=1):
            new = {**state, name: version} if op == "save" else {k: v for k, v in state.items() if k != name}
            killer.arm(kill_at)
            try:
                if op == "save":
                    store.save(name, net(version), {"backend": "numpy", "v": version}, root)
                else:
                    store.delete(name, root)
            except Killed:
                killed = True
            except store.ModelNotFound:
                assert op == "delete" and name not in state
                killed, new = False, state
            else:
                killed = False
            killer.arm(None)
            seen = observe(root)
            assert seen in ([state, new] if killed else [new]), f"{op} {name} killed at {kill_at}"
            if not killed:  # a writer that finished leaves only models behind
                assert sorted(p.name for p in root.iterdir()) == sorted(seen)
            state = seen
