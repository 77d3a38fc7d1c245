"""Event files written from run directories, read back with TensorBoard's own event reader."""

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from mnist_core.training import loop, rundir
from mnist_core.training import tensorboard as tb
from mnist_core.training.config import TrainConfig


def _read(path):
    acc = EventAccumulator(str(path), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def _series(acc, tag):
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]


def test_a_training_run_reads_back_in_tensorboard(tiny_splits, store_root, runs_root):
    config = TrainConfig.for_model("numpy_mlp", epochs=2, batch_size=50, name="tb-run", schedule="cosine")
    run = rundir.RunDir.create(config)
    loop.train(config, run, splits=tiny_splits)
    [summary] = tb.write_runs([run.id])
    assert summary["path"] == str(run.path / "tensorboard") and summary["epochs"] == 2 and summary["trials"] == 0

    train = _read(run.path / "tensorboard" / "train")
    epochs = run.events("epoch")
    assert _series(train, "epoch_loss") == [(e["epoch"], pytest.approx(e["loss"])) for e in epochs]
    assert _series(train, "epoch_learning_rate") == [(e["epoch"], pytest.approx(e["lr"])) for e in epochs]
    assert _series(train, "epoch_learning_rate")[0][1] > _series(train, "epoch_learning_rate")[1][1]  # cosine
    batches = run.events("batch")
    assert [s for s, _ in _series(train, "batch_loss")] == [e["global_step"] for e in batches]
    assert train.SummaryMetadata("config").plugin_data.plugin_name == "text"
    text = tensor_util.make_ndarray(train.Tensors("config")[0].tensor_proto).item().decode()
    assert "| model | \"numpy_mlp\" |" in text and "| schedule | \"cosine\" |" in text
    assert _series(train, "test_accuracy")[0][1] == pytest.approx(run.status()["test_accuracy"])

    validation = _read(run.path / "tensorboard" / "validation")
    assert _series(validation, "epoch_accuracy") == [(e["epoch"], pytest.approx(e["val_accuracy"])) for e in epochs]
    # The run directory is still the dashboard's run, untouched apart from the new folder.
    assert [r.id for r in rundir.list_runs()] == [run.id] and run.status()["state"] == "completed"


def test_writing_again_replaces_the_snapshot_and_a_logdir_gets_one_folder_per_run(runs_root, tmp_path):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax", epochs=3))
    run.append_event("epoch", epoch=1, loss=1.0, accuracy=0.5, lr=0.01)
    tb.write_runs()
    run.append_event("epoch", epoch=2, loss=0.5, accuracy=0.7, lr=0.005)
    tb.write_runs()
    assert len(list((run.path / "tensorboard" / "train").iterdir())) == 1  # one event file, not two
    assert [s for s, _ in _series(_read(run.path / "tensorboard" / "train"), "epoch_loss")] == [1, 2]
    assert not (run.path / "tensorboard" / "validation").exists()  # no validation split, no empty folder

    logdir = tmp_path / "tb"
    [summary] = tb.write_runs([run.id], logdir=logdir)
    assert summary["path"] == str(logdir / run.id) and _series(_read(logdir / run.id / "train"), "epoch_accuracy")
    assert tb.destination(run, runs_root) == run.path / "tensorboard"  # --logdir runs: beside each run


def test_bad_requests_are_refused(runs_root, tmp_path):
    run = rundir.RunDir.create(TrainConfig.for_model("softmax"))
    with pytest.raises(FileNotFoundError, match="no run 'nope'"):
        tb.write_runs(["nope"])
    other = rundir.RunDir.create(TrainConfig.for_model("softmax"), root=tmp_path / "elsewhere", run_id=run.id)
    with pytest.raises(tb.TensorBoardError, match="not a TensorBoard folder"):
        tb.write_runs([run.id], logdir=other.path.parent)
    assert (other.path / "config.json").is_file()


def test_a_sweep_becomes_an_hparams_experiment(runs_root):
    from tensorboard.plugins.hparams import plugin_data_pb2

    from mnist_core.training import sweeps

    sweep = sweeps.SweepConfig(TrainConfig.for_model("softmax", epochs=2),
                               {"lr": {"kind": "list", "values": [0.01, 0.1]}}, search="grid")
    run = sweeps.create(sweep)
    for number, (trial, lr, accs) in enumerate([("t1", 0.01, [0.8, 0.9]), ("t2", 0.1, [0.7])]):
        run.append_event("trial_state", trial=trial, number=number, state="running", params={"lr": lr})
        for epoch, acc in enumerate(accs, 1):
            run.append_event("trial_result", trial=trial, epoch=epoch, val_accuracy=acc, val_loss=1 - acc)
        run.append_event("trial_state", trial=trial, number=number,
                         state="completed" if len(accs) == 2 else "stopped", params={"lr": lr})
    [summary] = tb.write_runs([run.id])
    assert summary["trials"] == 2

    root = run.path / "tensorboard"
    experiment = _read(root)
    content = experiment.PluginTagToContent("hparams")
    assert "_hparams_/experiment" in content
    data = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"])
    assert [h.name for h in data.experiment.hparam_infos] == ["lr"]
    assert {m.name.tag for m in data.experiment.metric_infos} == {"epoch_val_accuracy", "epoch_val_loss"}

    sessions = sorted((root / "trials").iterdir())
    assert [p.name for p in sessions] == ["000-t1", "001-t2"]
    first = _read(sessions[0])
    start = plugin_data_pb2.HParamsPluginData.FromString(
        first.PluginTagToContent("hparams")["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(0.01) and start.group_name == "t1"
    assert _series(first, "epoch_val_accuracy") == [(1, pytest.approx(0.8)), (2, pytest.approx(0.9))]
    assert _series(_read(sessions[1]), "epoch_val_accuracy") == [(1, pytest.approx(0.7))]
