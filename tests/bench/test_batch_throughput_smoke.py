"""Smoke test of bench/batch_throughput.py on tiny settings (speed itself is never asserted)."""

import os
import subprocess
import sys

from mnist_core.models import store
from tests.conftest import REPO
from tests.hostile.digits import template_net


def test_bench_runs_and_prints_its_table(tmp_path):
    models = tmp_path / "models"
    store.save("templates", template_net(), {"kind": "numpy_softmax", "backend": "numpy"}, root=models)
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(tmp_path / "runs")}
    proc = subprocess.run([sys.executable, "bench/batch_throughput.py", "--n", "30", "--repeats", "1",
                           "--stage-n", "10", "--model", "templates", "--images", str(tmp_path / "none")],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "batch throughput: 30 JPEG photos (100 synthetic 500x500 photos)" in out
    assert "images/s" in out and "in this process" in out and "worker pool, warm" in out
    assert "preprocess as before issue 27" in out  # the same stage, the code before it was made faster, same run
    for stage in ("decode", "preprocess", "predict", "not a digit"):
        assert stage in out
    rows = [line for line in out.splitlines() if line.startswith("  ") and "worker" in line]
    # first call, warm, and warm with glibc's memory defaults; the accuracy column: they really read them
    assert len(rows) == 3 and all(float(r.split()[-1]) >= 0.9 for r in rows)
    assert "faults/img" in out and "detector after the pool" in out


def test_bench_reports_a_missing_model(tmp_path):
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(tmp_path / "empty")}
    proc = subprocess.run([sys.executable, "bench/batch_throughput.py", "--n", "5", "--model", "nope"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 2 and "no model named 'nope'" in proc.stderr
