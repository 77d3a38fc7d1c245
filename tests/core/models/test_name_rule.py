"""One rule for the name a writer saves under (issue 28 §4): store.check_new_name, called by every writer.

A shipped model's name (default, shapes, and the -previous that promote keeps) is written only by promote;
any other saved name is replaced only when the caller says so; otherwise the work is refused before it starts.
"""

import pytest

from mnist_core import cli
from mnist_core.models import ensembles, store
from mnist_core.models.numpy_nets import NumpyNet
from mnist_core.training import queue, rundir, sweeps
from mnist_core.training.config import TrainConfig


def _save(name: str, root=None) -> None:
    store.save(name, NumpyNet((784, 10)), {"kind": "numpy_softmax", "backend": "numpy",
                                           "history": {"val_accuracy": [0.9]}, "test_accuracy": 0.9}, root)


@pytest.mark.parametrize("name", ["default", "shapes", "default-previous", "shapes-previous"])
def test_a_shipped_name_is_refused_even_when_replacing(store_root, name):
    with pytest.raises(store.ProtectedName, match="only `python -m mnist_core promote CANDIDATE --to"):
        store.check_new_name(name, replace=True)


def test_a_saved_name_needs_replace_and_a_new_one_passes(store_root):
    _save("mine")
    with pytest.raises(store.NameTaken, match="a model named 'mine' already exists.*--replace"):
        store.check_new_name("mine")
    assert store.check_new_name("mine", replace=True) == "mine"
    assert store.check_new_name("fresh") == "fresh"
    with pytest.raises(store.InvalidName):
        store.check_new_name("../evil", replace=True)


def test_cli_train_refuses_the_default_and_a_taken_name_before_a_run_exists(store_root, runs_root, capsys):
    _save("mine")
    assert cli.main(["train", "--model", "numpy_softmax", "--name", "default", "--now", "--replace"]) == 2
    assert "'default' is a shipped model" in capsys.readouterr().err
    assert cli.main(["train", "--model", "numpy_softmax", "--name", "mine", "--now"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: a model named 'mine' already exists") and len(err.strip().splitlines()) == 1
    assert rundir.list_runs() == []  # refused before it started: no run directory


def test_a_dashboard_run_whose_name_was_taken_while_it_waited_fails_with_the_reason(store_root, runs_root, capsys):
    run = rundir.RunDir.create(TrainConfig.for_model("numpy_softmax", name="mine"), admitted=1.0)
    _save("mine")  # saved by someone else while the run waited in line
    assert cli.main(["train", "--run-dir", str(run.path), "--now"]) == 2
    assert run.status()["state"] == "failed" and "already exists" in run.status()["error"]
    assert "already exists" in capsys.readouterr().err


def test_the_dashboards_launch_applies_the_rule_and_records_replace(store_root, runs_root, monkeypatch):
    _save("mine")
    with pytest.raises(store.NameTaken):
        queue.launch(TrainConfig.for_model("numpy_softmax", name="mine"))
    with pytest.raises(store.ProtectedName):
        queue.launch(TrainConfig.for_model("numpy_softmax", name="default"), replace=True)
    assert rundir.list_runs() == []
    monkeypatch.setattr(queue, "dispatch", lambda *a, **k: [])  # record only: start no training process
    run = queue.launch(TrainConfig.for_model("numpy_softmax", name="mine"), replace=True)
    assert run.status()["replace"] is True


def test_ensembles_follow_the_rule(store_root, tiny_splits, capsys):
    _save("a1")
    store.save("a2", NumpyNet((784, 10), seed=1), {"kind": "numpy_softmax", "backend": "numpy"})
    ensembles.create("pair", ["a1", "a2"], splits=tiny_splits)
    with pytest.raises(store.NameTaken):
        ensembles.create("pair", ["a1", "a2"], splits=tiny_splits)
    ensembles.create("pair", ["a1", "a2"], splits=tiny_splits, replace=True)
    with pytest.raises(store.ProtectedName):
        ensembles.create("default", ["a1", "a2"], splits=tiny_splits, replace=True)
    assert cli.main(["ensemble", "pair", "a1", "a2"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_sweep_whose_names_are_taken_is_refused_before_it_starts(store_root, runs_root):
    _save("seeds-t01")
    base = TrainConfig.for_model("numpy_softmax", epochs=1)
    with pytest.raises(store.NameTaken, match="'seeds-t01'"):
        sweeps.create(sweeps.seeds_sweep(base, [0, 1, 2], ensemble="seeds"))
    with pytest.raises(store.ProtectedName):
        sweeps.create(sweeps.seeds_sweep(base, [0, 1], ensemble="default"))
    assert sweeps.list_sweeps() == []
    assert sweeps.new_model_names(sweeps.seeds_sweep(base, [0, 1], ensemble="ens")) == ["ens-t00", "ens-t01", "ens"]
