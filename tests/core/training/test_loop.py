import numpy as np
import pytest

from mnist_core.training import rundir, loop

from mnist_core.models import loading, store
from mnist_core.training.config import TrainConfig
from mnist_core.data.mnist import Splits


def _train(kind, splits, **overrides):
    config = TrainConfig.for_model(kind, epochs=2, batch_size=50, **overrides)
    run = rundir.RunDir.create(config)
    card = loop.train(config, run, splits=splits)
    return config, run, card


@pytest.mark.parametrize("kind", ["lenet5", "numpy_mlp"])
def test_train_writes_events_status_and_saves(kind, tiny_splits, store_root, runs_root):
    config, run, card = _train(kind, tiny_splits, name=f"t-{kind.replace('_', '-')}")
    types = [e["type"] for e in run.events()]
    assert types[:2] == ["start", "plan"] and types[-3:] == ["test", "saved", "end"]
    epochs = run.events("epoch")
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "elapsed"} <= set(epochs[0])
    assert run.events("batch")[-1]["step"] == 10  # the last batch of an epoch is always logged
    status = run.status()
    assert status["state"] == "completed" and status["test_accuracy"] == card["test_accuracy"]
    saved = store.read_card(config.name)
    assert saved["config"] == config.to_dict() and saved["epochs_trained"] == 2
    assert saved["test_accuracy"] > 0.5 and len(saved["history"]["val_accuracy"]) == 2
    assert loading.load(config.name).predict_proba(tiny_splits.x_test[:3]).shape == (3, 10)


def test_stop_request_is_honoured_between_batches(tiny_splits, store_root, runs_root):
    config = TrainConfig.for_model("mlp", epochs=5, batch_size=10, name="never-saved")
    run = rundir.RunDir.create(config)
    run.request_stop()
    with pytest.raises(loop.Cancelled):
        loop.train(config, run, splits=tiny_splits)
    assert run.status()["state"] == "cancelled"
    assert len(run.events("batch")) == 1 and not run.events("epoch")
    assert store.list_names() == []


def test_failure_is_recorded(store_root, runs_root):
    bad = Splits(*(np.zeros((20, 27, 27, 1), np.float32), np.zeros(20, np.int32)) * 3, sha256="bad")
    config = TrainConfig.for_model("lenet5", epochs=1)
    run = rundir.RunDir.create(config)
    with pytest.raises(Exception):
        loop.train(config, run, splits=bad)
    status = run.status()
    assert status["state"] == "failed" and status["error"]
    assert run.events()[-1]["type"] == "end"


@pytest.mark.parametrize("kind", ["cnn", "numpy_softmax"])
def test_same_seed_same_metrics(kind, tiny_splits, store_root):
    config = TrainConfig.for_model(kind, epochs=2, batch_size=50, seed=7, augment=kind == "cnn")
    a = loop.train(config, splits=tiny_splits, save=False)
    b = loop.train(config, splits=tiny_splits, save=False)
    assert a["history"] == b["history"] and a["test_accuracy"] == b["test_accuracy"]


def test_a_run_says_what_it_prepares_before_its_first_batch(store_root, runs_root, monkeypatch):
    stages = []
    heartbeat = rundir.RunDir.heartbeat

    def record(self, **fields):
        if "stage" in fields and (not stages or stages[-1] != fields["stage"]):
            stages.append(fields["stage"])
        heartbeat(self, **fields)

    monkeypatch.setattr(rundir.RunDir, "heartbeat", record)
    config = TrainConfig.for_model("lenet5", epochs=1, train_subset=100, validation=100, name="staged")
    loop.train(config, rundir.RunDir.create(config))
    assert stages == ["loading the data", "importing TensorFlow", "building the model",
                      "compiling the training step", None, "testing on the test set and saving"]


@pytest.mark.parametrize("augment", [False, True])
def test_the_training_data_runs_without_tf_data_autotuning(tiny_splits, augment):
    """Autotuning's optimiser thread held fit's return 0.8-2 s in 1 run of 3 (README, issue 27): it stays off."""
    config = TrainConfig.for_model("fast", batch_size=64, augment=augment, label_smoothing=0.0)
    ds = loop._dataset(tiny_splits.x_train, tiny_splits.y_train, config)
    assert ds.options().autotune.enabled is False
    batches = list(ds)
    assert batches[0][0].shape == (64, 28, 28, 1)
    seen = np.concatenate([np.asarray(y) for _, y in batches])
    assert sorted(seen.tolist()) == sorted(tiny_splits.y_train.tolist())  # every image once an epoch
