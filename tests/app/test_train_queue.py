"""Train page and the run queue: places in line are shown, Cancel works on a queued run, and reading the
dashboard never starts one."""

import os

import pytest

from mnist_core.training import queue, rundir
from mnist_core.training.config import TrainConfig

from .conftest import open_page, texts


def test_queued_runs_show_their_place_and_can_be_cancelled(store, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    config = TrainConfig.for_model("numpy_softmax", epochs=1, train_subset=300)
    busy = rundir.RunDir.create(config, pid=os.getpid(), created=1.0)  # holds the only place (this process)
    assert queue.dispatch() == [busy.id]  # as its own launch would
    first, second = (rundir.RunDir.create(config, created=2.0 + i) for i in range(2))  # queued from the page
    at = open_page("train")
    shown = texts(at) + "\n".join(p.text for p in at.get("progress"))
    assert "At most 1 trainings run at once" in shown
    assert "queued: number 1 in line" in shown and "queued: number 2 in line" in shown
    assert busy.raw_status().get("admitted") and first.status()["state"] == "queued"

    at.button(key=f"cancel-{first.id}").click().run()
    assert first.status()["state"] == "cancelled" and first.status()["error"] == "cancelled while queued"
    assert queue.positions() == {second.id: 1}
    at.run()
    assert "queued: number 1 in line" in "\n".join(p.text for p in at.get("progress"))
    busy.write_status("cancelled")  # nothing was spawned for `second` while the place was held
    assert second.raw_status().get("pid") is None


def test_start_clicks_in_a_row_queue_up_in_order(store, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    busy = rundir.RunDir.create(TrainConfig.for_model("softmax"), pid=os.getpid(), created=1.0)
    queue.dispatch()
    at = open_page("train")
    at.selectbox(key="tr_kind").select("numpy_softmax").run()
    for i in range(8):
        at.button(key="tr_start").click().run()
        assert any(f"is number {i + 1} in line" in s.value for s in at.success), texts(at)
    waiting = queue.waiting()
    assert len(waiting) == 8 and all(rundir.RunDir(busy.path.parent / w).raw_status().get("pid") is None
                                     for w in waiting)  # nothing spawned while the one place is taken
    assert queue.active_count() == 1
    for run_id in waiting:
        rundir.get_run(run_id).request_stop()
    queue.dispatch()
    assert queue.waiting() == []


@pytest.mark.parametrize("page", ["train", "home"])
def test_polling_the_dashboard_starts_no_run(store, monkeypatch, page):
    """A queued run with a free place stays queued while pages poll: only a launch, a cancel, a run that
    ends or the server's dispatcher thread start it (issue 28 §1)."""
    monkeypatch.setenv(queue.ENV, "1")
    monkeypatch.setattr(rundir, "spawn", lambda run, argv: pytest.fail(f"a poll spawned {argv}"))
    waiting = rundir.RunDir.create(TrainConfig.for_model("numpy_softmax", epochs=1, train_subset=300))
    at = open_page(page)
    for _ in range(3):
        at.run()
    assert not at.exception
    assert waiting.raw_status().get("admitted") is None and waiting.raw_status().get("pid") is None
    assert queue.waiting() == [waiting.id]


def test_following_a_fine_tuning_run_starts_nothing(store, monkeypatch):
    """The Teach panel's poll reads its run; a fine-tuning run waiting in line (owned by its own process,
    here this one) is admitted by that process's wait_turn, never by the panel."""
    from streamlit.testing.v1 import AppTest

    from mnist_core.training import finetune_runs as ftr

    monkeypatch.setenv(queue.ENV, "1")
    run = rundir.RunDir.create(TrainConfig.for_model("lenet5", epochs=1), pid=os.getpid(), kind=ftr.KIND)
    (run.path / ftr.FINETUNE_FILE).write_text('{"base": "default", "images": "x"}')

    def follow():
        from studio_ui import finetune_panel

        finetune_panel.runs_section()

    at = AppTest.from_function(follow, default_timeout=60).run()
    at.run()
    assert not at.exception
    assert run.raw_status().get("admitted") is None and queue.waiting() == [run.id]
    assert any("queued: number 1 in line" in p.text for p in at.get("progress"))
