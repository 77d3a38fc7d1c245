"""Train page: a tiny run starts as its own process, shows up live, then as finished."""

import time

from mnist_core.training import rundir

from mnist_core.models import store

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
    at.number_input(key="tr_softmax_subset").set_value(500)
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


def store_names():
    return store.list_names()


def test_an_existing_name_needs_explicit_replacement(store):
    at = open_page("train")
    at.selectbox(key="tr_kind").select("softmax").run()
    at.text_input(key="tr_softmax_name").input("default").run()
    assert at.checkbox(key="tr_softmax_replace").value is False
    at.button(key="tr_start").click().run()
    assert any("already exists" in e.value for e in at.error)
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
    assert any("could not load MNIST" in e.value for e in at.error)
    assert any("Cancelled" in w.value for w in at.warning)
    assert any("could not load MNIST" in c.value for c in at.code)
