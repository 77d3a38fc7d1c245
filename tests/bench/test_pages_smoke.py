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


def test_report_prints_when_the_usable_part_was_drawn():
    bench = _bench()
    first, second = {"s": 4.0, "top_s": 1.25, "errors": 0}, {"s": 1.2, "top_s": 0.75, "errors": 0}
    line = bench.report({"draw": (first, second)}, "")[0]
    assert line == "draw     first  4.00 s   second  1.20 s (canvas 1.25 s / 0.75 s)"
    first, second = {**first, "top_s": None, "tab_s": 2.5}, {**second, "top_s": None, "tab_s": 1.5}
    assert bench.report({"inspect": (first, second)}, "")[0].endswith(
        "second  1.20 s (then Look inside: 2.50 s / 1.50 s after the click)")
