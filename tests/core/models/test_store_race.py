"""A reader running between any two steps of a writer sees the old or the new store, and changes nothing.

Every rename and removal the store makes is wrapped so that a full reader
(list, read every card, load every model and check its weights) runs just
before and just after it, as a dashboard rerun could.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnist_core.models import loading, store
from mnist_core.models.numpy_nets import NumpyNet

NAMES = ("m", "n", "keep")


def net(version: int) -> NumpyNet:
    return NumpyNet((784, 3, 10), seed=version)


def save(name: str, version: int) -> None:
    store.save(name, net(version), {"backend": "numpy", "v": version})


def tree(root: Path) -> list:
    """Every path under the store with its inode: what a reader must leave exactly as it found it."""
    return sorted((str(p.relative_to(root)), p.stat().st_ino) for p in root.rglob("*"))


def view() -> dict:
    """name -> version as a reader sees it; each model checked complete (card and weights of one save)."""
    seen = {}
    for name in store.list_names():
        model = loading.load(name)
        np.testing.assert_array_equal(model.net.weights[0], net(model.card["v"]).weights[0])
        seen[name] = model.card["v"]
    for name in NAMES:  # asked by name, not only through the listing
        try:
            assert store.read_card(name)["v"] == seen[name]
        except store.ModelNotFound:
            assert name not in seen
    return seen


@pytest.fixture
def interleave(store_root, monkeypatch):
    """Patch the store's renames and removals to run view() around each; returns the views seen."""
    views, reading = [], []
    real_replace, real_rename, real_rmtree = os.replace, os.rename, shutil.rmtree

    def read():
        if reading:
            raise AssertionError("a reader renamed or removed something in the store")
        before = tree(store_root)
        reading.append(True)
        try:
            views.append(view())
        finally:
            reading.clear()
        assert tree(store_root) == before, "a reader changed the store"

    def around(real):
        def step(path, *args, **kwargs):
            if not Path(path).is_relative_to(store_root):
                return real(path, *args, **kwargs)
            read()
            result = real(path, *args, **kwargs)
            read()
            return result
        return step

    monkeypatch.setattr(os, "replace", around(real_replace))
    monkeypatch.setattr(os, "rename", around(real_rename))
    monkeypatch.setattr(shutil, "rmtree", around(real_rmtree))
    return views


def interrupted_overwrite():
    """models/m as a kill between an overwrite's two renames left it."""
    save("m", 1)
    os.replace(store.model_dir("m"), store.model_dir("m").parent / ".trash-m-0badc0de")


CASES = {
    "save": ([], lambda: save("n", 3), {"keep": 9}, {"keep": 9, "n": 3}),
    "overwrite": ([lambda: save("m", 1)], lambda: save("m", 2), {"keep": 9, "m": 1}, {"keep": 9, "m": 2}),
    "copy over": ([lambda: save("m", 1), lambda: save("n", 2)], lambda: store.copy("m", "n"),
                  {"keep": 9, "m": 1, "n": 2}, {"keep": 9, "m": 1, "n": 1}),
    "delete": ([lambda: save("m", 1)], lambda: store.delete("m"), {"keep": 9, "m": 1}, {"keep": 9}),
    "writer after a killed overwrite": ([interrupted_overwrite], lambda: save("n", 3),
                                        {"keep": 9, "m": 1}, {"keep": 9, "m": 1, "n": 3}),
    "overwrite after a killed overwrite": ([interrupted_overwrite], lambda: save("m", 2),
                                           {"keep": 9, "m": 1}, {"keep": 9, "m": 2}),
}


@pytest.mark.parametrize("case", CASES)
def test_a_reader_between_any_two_steps_sees_old_or_new(store_root, case, request):
    setup, write, old, new = CASES[case]
    save("keep", 9)
    for step in setup:
        step()
    views = request.getfixturevalue("interleave")
    write()
    assert views, "the writer made no step the reader could run between"
    # Old until some step, new from then on: never neither, never back to old.
    changes = [v for i, v in enumerate(views) if i == 0 or v != views[i - 1]]
    assert changes in ([old], [new], [old, new]), f"reader saw {changes}"
    assert views[-1] == new and view() == new
    assert sorted(p.name for p in store_root.iterdir()) == sorted(new)  # nothing hidden left behind


@pytest.mark.parametrize("fails", [True, False], ids=["read fails", "read finishes"])
def test_a_read_that_a_writer_interrupts_is_read_again(store_root, fails):
    """A writer swaps the folder while a reader is inside it: the reader starts over on the new model."""
    save("m", 1)
    calls = []

    def reader(folder, card):
        calls.append(card["v"])
        if len(calls) == 1:
            save("m", 2)  # between reading the card and reading the model file
            if fails:
                raise store.CorruptModel("model.npz vanished")
        return card["v"], NumpyNet.load(folder / "model.npz").weights[0]

    version, weights = store.read("m", reader)
    assert calls == [1, 2] and version == 2
    np.testing.assert_array_equal(weights, net(2).weights[0])


def test_a_writer_waits_while_another_holds_the_store(store_root):
    import fcntl
    import threading

    save("keep", 9)
    fd = os.open(store_root, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer, mid-save
    try:
        writer = threading.Thread(target=save, args=("m", 1))
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and store.list_names() == ["keep"]
    finally:
        os.close(fd)
    writer.join(30)
    assert not writer.is_alive() and store.list_names() == ["keep", "m"]
