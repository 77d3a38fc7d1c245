"""Issue 23 item 3: a run may end without adding a model; a kept experiment can be discarded from its run."""

import pytest

from mnist_core.models import store
from mnist_core.training import loop, rundir, runview
from mnist_core.training.config import TrainConfig


def _run(splits, **overrides):
    config = TrainConfig.for_model("numpy_softmax", epochs=1, batch_size=100, **overrides)
    run = rundir.RunDir.create(config)
    card = loop.train(config, run, splits=splits)
    return run, card


def test_a_run_that_keeps_no_model_leaves_its_figures_only(tiny_splits, store_root, runs_root):
    run, card = _run(tiny_splits, name="experiment", keep_model=False)
    assert "experiment" not in store.list_names()
    view = runview.run_view(run)
    assert view.state == "completed" and view.test_accuracy == card["test_accuracy"] and not view.saved
    assert view.headline.endswith(" · no model kept") and "saved" not in [e["type"] for e in run.events()]
    assert run.events("end")[-1]["saved"] is False


def test_a_name_taken_does_not_stop_a_run_that_keeps_nothing(tiny_splits, store_root, runs_root):
    from mnist_core.training import queue

    _run(tiny_splits, name="taken")
    with pytest.raises(store.StoreError):
        queue.launch(TrainConfig.for_model("numpy_softmax", epochs=1, name="taken"), runs_root)
    run = queue.launch(TrainConfig.for_model("numpy_softmax", epochs=1, name="taken", keep_model=False), runs_root)
    run.request_stop()


def test_discard_deletes_the_runs_own_model_once(tiny_splits, store_root, runs_root):
    run, _ = _run(tiny_splits, name="trial-a")
    assert runview.run_view(run).saved
    assert loop.discard(run) == "trial-a"
    assert "trial-a" not in store.list_names()
    view = runview.run_view(run)
    assert not view.saved and view.headline.endswith("no model kept")
    with pytest.raises(store.StoreError, match="no saved model to discard"):
        loop.discard(run)


def test_discard_never_deletes_a_model_saved_again_by_another_run(tiny_splits, store_root, runs_root):
    first, _ = _run(tiny_splits, name="same")
    config = TrainConfig.for_model("numpy_softmax", epochs=1, batch_size=100, name="same")
    second = rundir.RunDir.create(config)
    loop.train(config, second, splits=tiny_splits)  # replaced the first run's model
    with pytest.raises(store.StoreError, match="saved again since"):
        loop.discard(first)
    assert "same" in store.list_names()
