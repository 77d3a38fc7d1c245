"""bench/pages.py: its fake finished runs read as finished runs, and its report flags pages over the targets."""

import importlib.util
import sys

from mnist_core.training import rundir, runview
from tests.conftest import REPO


def _bench():
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("bench_pages", REPO / "bench" / "pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fake_finished_runs_are_what_the_train_page_lists(tmp_path):
    _bench().fake_finished_runs(tmp_path, 3, epochs=2, steps=40)
    runs = rundir.list_runs(tmp_path)
    assert len(runs) == 3 and all(r.status()["state"] == "completed" for r in runs)
    view = runview.run_view(runs[0])
    assert view["epochs_done"] == 2 and len(view["batches"]["x"]) == 4 and view["test_accuracy"] == 0.985


def test_report_names_the_pages_over_the_targets():
    bench = _bench()
    fast, slow = {"s": 0.5, "top_s": None, "errors": 0}, {"s": 3.5, "top_s": None, "errors": 0}
    lines = bench.report({"": (fast, fast), "models": (slow, fast)}, "")
    assert lines[-1] == "targets missed by: models"
    assert bench.report({"": (fast, fast)}, "")[-1] == "all targets met"
