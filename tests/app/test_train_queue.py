"""Train page and the run queue: places in line are shown, and Cancel works on a queued run."""

import os

from mnist_core.training import queue, rundir
from mnist_core.training.config import TrainConfig

from .conftest import open_page, texts


def test_queued_runs_show_their_place_and_can_be_cancelled(store, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    config = TrainConfig.for_model("numpy_softmax", epochs=1, train_subset=300)
    busy = rundir.RunDir.create(config, pid=os.getpid(), created=1.0)  # holds the only place (this process)
    first, second = (rundir.RunDir.create(config, created=2.0 + i) for i in range(2))  # queued from the page
    at = open_page("train")
    shown = texts(at) + "\n".join(p.text for p in at.get("progress"))
    assert "At most 1 trainings run at once" in shown
    assert "queued: number 1 in line" in shown and "queued: number 2 in line" in shown
    assert busy._raw_status().get("admitted") and first.status()["state"] == "queued"

    at.button(key=f"cancel-{first.id}").click().run()
    assert first.status()["state"] == "cancelled" and first.status()["error"] == "cancelled while queued"
    assert queue.positions() == {second.id: 1}
    at.run()
    assert "queued: number 1 in line" in "\n".join(p.text for p in at.get("progress"))
    busy.write_status("cancelled")  # nothing was spawned for `second` while the place was held
    assert second._raw_status().get("pid") is None


def test_start_clicks_in_a_row_queue_up_in_order(store, monkeypatch):
    monkeypatch.setenv(queue.ENV, "1")
    busy = rundir.RunDir.create(TrainConfig.for_model("softmax"), pid=os.getpid(), created=1.0)
    at = open_page("train")
    at.selectbox(key="tr_kind").select("numpy_softmax").run()
    for i in range(8):
        at.button(key="tr_start").click().run()
        assert any(f"is number {i + 1} in line" in s.value for s in at.success), texts(at)
    waiting = queue.waiting()
    assert len(waiting) == 8 and all(rundir.RunDir(busy.path.parent / w)._raw_status().get("pid") is None
                                     for w in waiting)  # nothing spawned while the one place is taken
    assert queue.active_count() == 1
    for run_id in waiting:
        rundir.get_run(run_id).request_stop()
    queue.dispatch()
    assert queue.waiting() == []
