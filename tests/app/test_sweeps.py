"""Sweeps page: a sweep's trials, charts and buttons, read from a sweep directory (no Ray needed here)."""

import os

from mnist_core.models import store as model_store
from mnist_core.training import sweeps
from mnist_core.training.config import TrainConfig

from .conftest import frame_with, open_page, texts


def _sweep_dir(state: str = "completed"):
    base = TrainConfig.for_model("numpy_softmax", epochs=3, train_subset=600)
    config = sweeps.SweepConfig(base, dict(sweeps.parse_param(p) for p in ("lr=log:0.01:1", "batch_size=32,64")),
                                search="tpe", trials=3, asha=True, keep=2)
    run = sweeps.create(config)
    run.write_status(state, pid=os.getpid())
    names = []
    for number, (lr, accs, final) in enumerate([(0.1, [0.80, 0.85, 0.90], "completed"), (0.5, [0.60], "stopped"),
                                                 (0.05, [0.78, 0.82, 0.86], "completed")]):
        trial = f"t{number}"
        params = {"lr": lr, "batch_size": 32}
        run.append_event("trial_state", trial=trial, number=number, state="running", params=params)
        for epoch, acc in enumerate(accs, start=1):
            run.append_event("trial_result", trial=trial, epoch=epoch, val_accuracy=acc, val_loss=1 - acc, node="n")
        if state == "completed" or number != 2:
            run.append_event("trial_state", trial=trial, number=number, state=final, params=params)
        if final == "completed" and state == "completed":
            name = f"{run.id}-t{number:02d}"
            history = {"val_accuracy": accs, "val_loss": [1 - a for a in accs]}
            model_store.copy("flat", name, {"history": history, "sweep": {"id": run.id}})
            run.append_event("trial_saved", trial=trial, name=name)
            names.append(name)
    return run, names


def test_no_sweeps_yet(store):
    at = open_page("sweeps")
    assert "No sweeps yet" in texts(at)


def test_a_finished_sweep_shows_its_trials_charts_and_keeps_the_winners(store):
    run, names = _sweep_dir()
    at = open_page("sweeps")
    table = frame_with(at, "stopped early")
    assert list(table["state"]) == ["completed", "stopped", "completed"]
    assert list(table["stopped early"]) == [False, True, False]
    assert "3/3 trials done" in texts(at) and "1 stopped early" in texts(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # parallel coordinates, curves, one scatter per searched knob
    assert '"parcoords"' in charts[0].proto.spec and '"dash":"dash"' in charts[1].proto.spec.replace(" ", "")

    at.checkbox(key=f"sw_promote_sure_{names[0]}").check().run()
    at.button(key="sw_promote").click().run()
    assert model_store.read_card("default")["promoted_from"] == names[0]  # best by validation: trial 0
    at.text_input(key="sw_ens_name").input("sweep-ens")
    at.button(key="sw_ensemble").click().run()
    assert not at.exception
    assert model_store.read_card("sweep-ens")["members"] == names


def test_cancel_a_running_sweep(store):
    run, _ = _sweep_dir(state="running")
    at = open_page("sweeps")
    assert "running" in texts(at)
    at.button(key=f"sw_cancel_{run.id}").click().run()
    assert run.stop_requested()


def test_bad_space_is_refused_with_a_reason(store):
    at = open_page("sweeps")
    at.selectbox(key="sw_lr_mode").select("list").run()
    at.text_input(key="sw_lr_list").input("0.1,abc").run()
    at.button(key="sw_start").click().run()
    assert any("Cannot start this sweep" in e.value and "abc" in e.value for e in at.error)
    assert sweeps.list_sweeps() == []


def test_the_train_page_and_runs_list_read_a_sweep_directory(store):
    run, _ = _sweep_dir()
    at = open_page("train")  # open_page fails on any exception
    assert not at.exception and "No runs in progress." in texts(at)  # a finished sweep is not a live training
