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
    assert view.epochs_done == 2 and len(view.batches["x"]) == 4 and view.test_accuracy == 0.985


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


def test_the_server_runs_from_a_fresh_clone_with_only_the_shipped_predictions(tmp_path):
    import subprocess

    repo = tmp_path / "repo"
    for rel, text in {"app.py": "x", ".gitignore": "models/*/cache-*\n!models/a/cache-kept\n__pycache__/\nruns/\n",
                      "models/a/card.json": "{}", "models/a/cache-kept": "1", "models/a/cache-other": "2",
                      "models/b/card.json": "{}", "models/b/cache-kept": "3", "new.py": "untracked, not ignored",
                      "__pycache__/app.pyc": "", "runs/r/events.jsonl": ""}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "app.py", ".gitignore", "models"], cwd=repo, check=True)

    def files(root):
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    bench = _bench()
    clone = bench.fresh_clone(tmp_path / "clone", repo)
    assert files(clone) == [".gitignore", "app.py", "models/a/cache-kept", "models/a/card.json",
                            "models/b/card.json", "new.py"]
    assert files(bench.fresh_clone(tmp_path / "dropped", repo, drop_kept=True)) == [
        ".gitignore", "app.py", "models/a/card.json", "models/b/card.json", "new.py"]
    other = bench.fresh_clone(tmp_path / "other", repo, models=repo / "models")  # a whole store, its caches too
    assert files(other / "models") == ["a/cache-kept", "a/cache-other", "a/card.json", "b/cache-kept", "b/card.json"]


def test_a_page_script_alone_on_a_fresh_clone_reports_its_cost(tmp_path):
    """Inspect's first visit on a fresh clone reads the shipped predictions: no TensorFlow (issue 24 §3)."""
    pages = _bench()
    clone = pages.fresh_clone(tmp_path / "clone")
    home, inspect, batch = pages.script_times(clone, ["", "inspect", "batch"])
    assert home.split()[:2] == ["script", "home"] and "s CPU" in home and "ERRORS" not in home
    assert "s CPU" in inspect and "imports TensorFlow" not in inspect and "ERRORS" not in inspect
    assert "s CPU" in batch and "imports TensorFlow" not in batch and "ERRORS" not in batch  # until an upload
