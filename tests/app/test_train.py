"""Train page: a tiny run starts as its own process, shows up live, then as finished."""

import time

from mnist_core.training import rundir

from mnist_core.models import store
from mnist_core.models.store import read_card

from .conftest import open_page, texts


def _wait_until_finished(timeout: float = 240) -> rundir.RunDir:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = rundir.list_runs()
        if found and found[0].status()["state"] in rundir.FINAL:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"the run did not finish in {timeout} s: {[r.status() for r in rundir.list_runs()]}")


def test_start_a_tiny_run_and_see_it_finish(store):
    at = open_page("train")
    assert "No runs in progress." in texts(at)
    at.selectbox(key="tr_kind").select("softmax").run()
    assert "Softmax regression" in texts(at)
    at.number_input(key="tr_softmax_epochs").set_value(1)
    at.number_input(key="tr_softmax_subset").set_value(500).run()
    assert at.checkbox(key="tr_softmax_keep1").value is False  # a quick run on a subset: an experiment
    at.checkbox(key="tr_softmax_keep1").check()
    at.text_input(key="tr_softmax_name").input("tiny-softmax")
    at.button(key="tr_start").click().run()
    assert any("Started run" in s.value for s in at.success), texts(at)

    launched = rundir.list_runs()
    assert len(launched) == 1
    assert launched[0].config().train_subset == 500 and launched[0].config().name == "tiny-softmax"
    at.run()
    progress_texts = [p.text for p in at.get("progress")]
    if launched[0].status()["state"] in rundir.ACTIVE:  # still going: it is drawn as a live panel
        assert progress_texts and "tiny-softmax" in texts(at)

    run = _wait_until_finished()
    assert run.status()["state"] == "completed", run.log_tail()
    at.run()
    assert any("test accuracy" in e.label for e in at.expander)
    assert "tiny-softmax" in store_names()
    assert [link for link in at.get("page_link") if "tiny-softmax" in link.label]
    at.button(key=f"discard-{run.id}").click().run()  # a kept experiment, discarded from its run
    assert "tiny-softmax" not in store_names()
    assert "No model was kept" in texts(at) and not [b for b in at.button if b.key == f"discard-{run.id}"]


def test_a_run_that_keeps_nothing_needs_no_free_name(store):
    at = open_page("train")
    at.selectbox(key="tr_kind").select("softmax").run()
    assert at.checkbox(key="tr_softmax_keep0").value is True  # all the data: kept by default
    at.checkbox(key="tr_softmax_keep0").uncheck()
    at.text_input(key="tr_softmax_name").input("flat").run()
    assert not [c for c in at.checkbox if c.key == "tr_softmax_replace"]  # nothing to replace
    at.button(key="tr_start").click().run()
    assert not at.error
    (run,) = rundir.list_runs()
    assert run.config().keep_model is False
    run.request_stop()


def store_names():
    return store.list_names()


def test_an_existing_name_needs_explicit_replacement(store):
    at = open_page("train")
    at.selectbox(key="tr_kind").select("softmax").run()
    at.text_input(key="tr_softmax_name").input("flat").run()
    assert at.checkbox(key="tr_softmax_replace").value is False
    at.button(key="tr_start").click().run()
    assert any("already exists" in e.value for e in at.error)
    assert rundir.list_runs() == []


def test_the_shipped_default_is_never_replaced_by_a_training_run(store):
    """Issue 28 §4: the Replace box once overwrote `default`; only promote writes it now."""
    at = open_page("train")
    at.selectbox(key="tr_kind").select("softmax").run()
    at.text_input(key="tr_softmax_name").input("default").run()
    assert not [c for c in at.checkbox if c.key == "tr_softmax_replace"]  # no box offers to replace it
    at.button(key="tr_start").click().run()
    assert any("'default' is a shipped model" in e.value and "promote" in e.value for e in at.error)
    assert rundir.list_runs() == []


def test_invalid_name_is_explained(store):
    at = open_page("train")
    at.selectbox(key="tr_kind").select("softmax").run()
    at.text_input(key="tr_softmax_name").input("Bad Name!").run()
    at.button(key="tr_start").click().run()
    assert any("invalid model name" in e.value for e in at.error)
    assert rundir.list_runs() == []


def test_failed_and_cancelled_runs_say_why(store):
    from mnist_core.training.config import TrainConfig

    failed = rundir.RunDir.create(TrainConfig.for_model("softmax", epochs=1))
    failed.write_status("failed", error="MnistLoadError: could not load MNIST")
    (failed.path / "log.txt").write_text("Traceback...\nMnistLoadError: could not load MNIST\n")
    cancelled = rundir.RunDir.create(TrainConfig.for_model("softmax", epochs=1))
    cancelled.write_status("cancelled", error="cancelled at the user's request")
    at = open_page("train")
    assert not at.error and not at.code  # closed panels: only their titles are drawn
    for run in (failed, cancelled):
        at.session_state[f"run-{run.id}"] = True  # what a click on the panel does
    at.run()
    assert any("could not load MNIST" in e.value for e in at.error)
    assert any("Cancelled" in w.value for w in at.warning)
    assert any("could not load MNIST" in c.value for c in at.code)


def _fake_run(name: str, state: str = "running", batches: int = 40, **status):
    """A run directory as a training process leaves it: plan, batch and epoch events, a status."""
    import os

    from mnist_core.training.config import TrainConfig

    run = rundir.RunDir.create(TrainConfig.for_model("lenet5", epochs=3, name=name))
    run.append_event("plan", epochs=3, steps_per_epoch=20, train_size=1000, params=1)
    now = time.time()
    for g in range(1, batches + 1):
        epoch, step = (g - 1) // 20 + 1, (g - 1) % 20 + 1
        run.append_event("batch", epoch=epoch, step=step, global_step=g, loss=2.0 / g, accuracy=1 - 0.9 / g,
                         elapsed=float(g))
        if step == 20:
            run.append_event("epoch", epoch=epoch, loss=0.5, accuracy=0.9, val_loss=0.4, val_accuracy=0.92)
    fields = {"pid": os.getpid(), "started": now, "epoch": 2, "step": 20, "steps": 20, "progress": 0.6} \
        if state == "running" else {}
    run.write_status(state, **{**fields, **status})
    return run


def _started_earlier(run: rundir.RunDir, seconds: float = 60) -> None:
    """Runs are listed by their config.json's time: set it, instead of sleeping between two creations."""
    import os

    made = (run.path / "config.json").stat().st_mtime
    os.utime(run.path / "config.json", (made - seconds, made - seconds))


def test_running_list_is_in_start_order_with_two_stop_buttons(store):
    first = _fake_run("first-run")
    second = _fake_run("second-run")
    _started_earlier(first)
    at = open_page("train")
    for i in range(4):  # either run may write its status last before a poll; the order must not follow
        (first if i % 2 else second).heartbeat(step=5 + i)
        at.run()
        keep = [b.key for b in at.button if b.key and b.key.startswith("keep-")]
        assert keep == [f"keep-{first.id}", f"keep-{second.id}"]
    assert "ETA" in texts(at) or any("ETA" in p.text for p in at.get("progress"))
    # two charts a row: batch loss and accuracy, epoch loss and accuracy, for each run
    assert len(at.get("plotly_chart")) == 8  # batch loss, batch accuracy, epoch loss, epoch accuracy, each run
    at.button(key=f"keep-{second.id}").click().run()
    assert second.keep_requested() and not second.stop_requested()
    assert not first.keep_requested() and not first.stop_requested()
    # Said at once, on the rerun of the click itself: the request was taken, and the button is spent.
    assert any("stopping at the next batch, the model will be saved" in p.text for p in at.get("progress"))
    assert at.button(key=f"keep-{second.id}").disabled and not at.button(key=f"cancel-{second.id}").disabled
    at.button(key=f"cancel-{first.id}").click().run()
    assert first.stop_requested()
    assert any("cancelling at the next batch" in p.text for p in at.get("progress"))
    assert at.button(key=f"cancel-{first.id}").disabled and at.button(key=f"keep-{first.id}").disabled


def test_finished_runs_keep_their_batch_curves_and_say_stopped_early(store):
    early = {"epoch": 2, "epochs": 3, "note": "stopped early at epoch 2 of 3 at the user's request"}
    run = _fake_run("kept-run", state="completed", test_accuracy=0.97, ended=time.time(), stopped_early=early)
    at = open_page("train")
    assert any("stopped early at epoch 2 of 3, model kept" in e.label for e in at.expander)
    assert at.toggle(key=f"curves-{run.id}").value is True  # the run just ended: its curves are shown
    titles = " ".join(str(c.proto.spec) for c in at.get("plotly_chart"))
    assert "loss per batch" in titles and "accuracy per batch" in titles and "accuracy per epoch" in titles
    at.toggle(key=f"curves-{run.id}").set_value(False).run()
    assert not at.get("plotly_chart")


def test_smoothing_control_smooths_the_batch_curves(store):
    import json

    _fake_run("smooth-run", state="completed", test_accuracy=0.9, ended=time.time())
    at = open_page("train")
    at.slider(key="tr_smoothing").set_value(0.0).run()
    raw = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    at.slider(key="tr_smoothing").set_value(0.9).run()
    smoothed = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert len(raw) == 1 and len(smoothed) == 2  # with smoothing, the raw line stays faint behind
    assert smoothed[1]["y"] != raw[0]["y"]


def test_the_task_picker_starts_a_shapes_run(store, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_SIZES", "train=3,validation=1,test=1")  # the run's process inherits it
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_CACHE", str(tmp_path / "shapes"))
    at = open_page("train")
    at.segmented_control(key="tr_task").set_value("shapes").run()
    at.selectbox(key="tr_kind").select("numpy_softmax").run()
    at.number_input(key="tr_numpy_softmax_epochs").set_value(1)
    at.text_input(key="tr_numpy_softmax_name").input("tiny-shapes")
    at.button(key="tr_start").click().run()
    launched = rundir.list_runs()
    assert len(launched) == 1 and launched[0].config().task == "shapes", texts(at)
    run = _wait_until_finished()
    assert run.status()["state"] == "completed", run.log_tail()
    assert read_card("tiny-shapes")["task"] == "shapes"
