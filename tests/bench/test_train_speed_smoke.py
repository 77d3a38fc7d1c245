"""Smoke test of bench/train_speed.py on tiny settings (speed itself is never asserted)."""

import json
import subprocess
import sys

from tests.conftest import REPO


def _run(*args, timeout=600):
    return subprocess.run([sys.executable, "bench/train_speed.py", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


def test_table_has_every_model_and_the_reference():
    proc = _run("--models", "numpy_softmax", "--seeds", "1", "--subset", "500", "--max-epochs", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "training speed" in out and "load average" in out and "time to target" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in
            ("numpy_softmax", "cnn")}
    assert set(rows) == {"numpy_softmax", "cnn"}  # the reference cnn is always measured in the same run
    assert "not reached" in rows["cnn"]  # 500 images, one epoch: nowhere near 99%


def test_json_has_per_epoch_records_and_a_reachable_target():
    proc = _run("--models", "numpy_softmax", "--seeds", "1", "--subset", "500", "--max-epochs", "2",
                "--target", "0.5", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    row = next(r for r in report["rows"] if r["label"] == "numpy_softmax")
    assert row["reached"] == 1 and row["epochs_to_target"] == 1  # stops at the first epoch over the target
    epochs = row["runs"][0]["epochs"]
    assert len(epochs) == 1 and epochs[0]["test_accuracy"] >= 0.5 and epochs[0]["seconds"] > 0
    assert len(report["load"]) == 2 and report["machine"]


def test_unknown_model_is_an_error():
    proc = _run("--models", "resnet")
    assert proc.returncode == 2 and "unknown models" in proc.stderr


def test_a_named_variant_runs_and_unknown_variants_are_refused():
    proc = _run("--models", "numpy_softmax", "--seeds", "1", "--subset", "300", "--max-epochs", "1",
                "--variants", "fast + XLA (no determinism); fast, batch 512", "--json")
    assert proc.returncode == 0, proc.stderr
    labels = [r["label"] for r in json.loads(proc.stdout)["rows"]]
    assert labels == ["numpy_softmax", "cnn", "fast + XLA (no determinism)", "fast, batch 512"]
    proc = _run("--variants", "fast in fp8")
    assert proc.returncode == 2 and "unknown variants" in proc.stderr


def test_reference_seeds_zero_leaves_cnn_out_and_runs_seed_by_seed():
    proc = _run("--models", "numpy_softmax", "--seeds", "2", "--other-seeds", "2", "--reference-seeds", "0",
                "--subset", "300", "--max-epochs", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert [r["label"] for r in rows] == ["numpy_softmax"] and rows[0]["seeds"] == 2  # no cnn: ratios to fast only
    assert proc.stderr.index("done: seed 0") < proc.stderr.index("done: seed 1")  # interleaved: seed by seed


def test_fast_variants_change_the_recipe_they_were_measured_on():
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_speed", REPO / "bench" / "train_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # "fast, ..." rows start from fast as it was until 2026-12-07 (no smoothing, space-to-depth, 24/32/256)
    assert bench.VARIANTS["fast, batch 512"] == {"label_smoothing": 0.0, "extra": {"crop": 2, "stem": "s2d"},
                                                 "batch_size": 512}
    kept = bench.VARIANTS["fast, label smoothing 0.1, narrower, stride-2 stem"]  # fast from 05:00 to 13:00
    assert bench.VARIANTS["fast now, 1.5 passes"] == {"extra": kept["extra"], "train_subset": 41250}
    from mnist_core.models import zoo

    recipe = zoo.MODELS["fast"].recipe  # today's recipe is that row, whitened (2026-12-07 13:00)
    assert (kept["label_smoothing"], {**kept["extra"], "whiten": "frozen"}) == \
        (recipe["label_smoothing"], recipe["extra"])
    assert bench.VARIANTS["fast now, whitened frozen stem"] == {"extra": recipe["extra"]}
