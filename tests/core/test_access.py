"""The core refuses every write to a visitor and in read-only mode, whoever calls it."""

from __future__ import annotations

import threading

import pytest

from mnist_core import access
from mnist_core.cli import main
from mnist_core.models import ensembles, selection, store
from mnist_core.models.numpy_nets import NumpyNet
from mnist_core.training import loop, queue, rundir, sweeps
from mnist_core.training.config import TrainConfig

HISTORY = {"val_accuracy": [0.5], "val_loss": [1.0]}


@pytest.fixture
def stocked(store_root, runs_root):
    """Two saved models and one run, written as an editor (the default outside the dashboard)."""
    for name in ("alpha", "beta"):
        store.save(name, NumpyNet((784, 10)), {"backend": "numpy", "history": HISTORY, "test_accuracy": 0.5})
    run = rundir.RunDir.create(TrainConfig.for_model("numpy_softmax", epochs=1), runs_root)
    return store_root, run


def snapshot(root) -> dict:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def writes(run: rundir.RunDir, tiny_splits) -> dict:
    config = TrainConfig.for_model("numpy_softmax", epochs=1, train_subset=100, name="gamma")
    return {
        "save": lambda: store.save("gamma", NumpyNet((784, 10)), {"backend": "numpy"}),
        "copy": lambda: store.copy("alpha", "gamma"),
        "delete": lambda: store.delete("alpha"),
        "ensemble": lambda: ensembles.create("pair", ["alpha", "beta"], splits=tiny_splits),
        "promote": lambda: selection.promote(["alpha", "beta"], "default"),
        "launch": lambda: queue.launch(config),
        "train": lambda: loop.train(config, splits=tiny_splits),
        "stop": run.request_stop,
        "sweep": lambda: sweeps.launch(sweeps.seeds_sweep(config, [0, 1])),
    }


WRITES = ["save", "copy", "delete", "ensemble", "promote", "launch", "train", "stop", "sweep"]


@pytest.mark.parametrize("write", WRITES)
def test_a_visitor_cannot_write(stocked, tiny_splits, write):
    root, run = stocked
    before, runs_before = snapshot(root), snapshot(run.path.parent)
    with access.acting_as(access.VISITOR), pytest.raises(access.AccessDenied, match="visitor"):
        writes(run, tiny_splits)[write]()
    assert snapshot(root) == before and snapshot(run.path.parent) == runs_before
    assert not run.stop_requested()


@pytest.mark.parametrize("write", WRITES)
def test_read_only_mode_refuses_even_an_editor(stocked, tiny_splits, monkeypatch, write):
    root, run = stocked
    before = snapshot(root)
    monkeypatch.setenv(access.READONLY_ENV, "1")
    with access.acting_as(access.EDITOR), pytest.raises(access.AccessDenied, match="read-only mode"):
        writes(run, tiny_splits)[write]()
    assert snapshot(root) == before and not run.stop_requested()


def test_an_editor_writes_and_reads_stay_open_to_visitors(stocked, tiny_splits):
    root, run = stocked
    with access.acting_as(access.EDITOR):
        store.copy("alpha", "gamma")
        run.request_stop()
    assert run.stop_requested()
    with access.acting_as(access.VISITOR):
        assert store.list_names() == ["alpha", "beta", "gamma"]
        assert store.read_card("alpha")["name"] == "alpha"
        assert selection.rank(["alpha", "beta"])[0]["name"] in ("alpha", "beta")


def test_the_cli_refuses_in_read_only_mode(stocked, monkeypatch, capsys):
    monkeypatch.setenv(access.READONLY_ENV, "1")
    assert main(["delete", "alpha"]) == 2
    assert "cannot delete model 'alpha'" in capsys.readouterr().err
    assert "alpha" in store.list_names()
    monkeypatch.setenv(access.READONLY_ENV, "0")
    assert main(["delete", "alpha"]) == 0 and "alpha" not in store.list_names()


def test_the_role_is_per_thread():
    seen = {}

    def other():
        seen["other"] = access.current_role()

    with access.acting_as(access.VISITOR):
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        seen["here"] = access.current_role()
    assert seen == {"here": access.VISITOR, "other": access.EDITOR}
    assert access.current_role() == access.EDITOR


@pytest.mark.parametrize("resolved,role", [(None, access.EDITOR), (access.VISITOR, access.VISITOR),
                                           (access.EDITOR, access.EDITOR), ("admin", access.VISITOR)])
def test_the_dashboard_resolver_decides_unless_a_block_says_otherwise(resolved, role):
    access.set_session_resolver(lambda: resolved)
    try:
        assert access.current_role() == role
        with access.acting_as(access.EDITOR):
            assert access.current_role() == access.EDITOR
    finally:
        access.set_session_resolver(None)


def test_unknown_roles_are_refused():
    with pytest.raises(ValueError, match="unknown role"):
        with access.acting_as("root"):
            pass
