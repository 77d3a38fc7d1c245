"""Smoke test of bench/inference.py on tiny settings (speed itself is never asserted)."""

import json
import os
import subprocess
import sys

from mnist_core.models import store, zoo
from mnist_core.training.config import TrainConfig
from tests.conftest import REPO


def _run(models_dir, *args):
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models_dir)}
    return subprocess.run([sys.executable, "bench/inference.py", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)


def test_table_and_json_for_keras_and_ensemble(tmp_path):
    from mnist_core.models import ensembles
    from mnist_core.data.mnist import load_splits

    models = tmp_path / "models"
    for i in range(2):
        store.save(f"s{i}", zoo.build(TrainConfig.for_model("softmax")), {"kind": "softmax", "backend": "keras"}, root=models)
    ensembles.create("pair", ["s0", "s1"], root=models, splits=load_splits())
    proc = _run(models, "--n", "10", "--repeats", "1", "--batch-n", "500")
    assert proc.returncode == 0, proc.stderr
    assert "p50 ms" in proc.stdout and "load average" in proc.stdout
    assert {line.split()[0] for line in proc.stdout.splitlines() if line[:2] in ("s0", "s1", "pa")} == \
        {"s0", "s1", "pair"}
    proc = _run(models, "--models", "pair,s0", "--n", "10", "--repeats", "1", "--batch-n", "300", "--json")
    rows = json.loads(proc.stdout)["rows"]
    assert [r["model"] for r in rows] == ["pair", "s0"] and rows[0]["kind"] == "ensemble"
    assert "eager_p50_ms" in rows[1] and "eager_p50_ms" not in rows[0]  # baselines only for single Keras nets
    assert all(r["p50_ms"] > 0 and r["images_per_s"] > 0 and 0 <= r["accuracy"] <= 1 for r in rows)


def test_missing_model_and_empty_store(tmp_path):
    proc = _run(tmp_path / "empty")
    assert proc.returncode == 2 and "empty" in proc.stderr
    proc = _run(tmp_path / "empty", "--models", "nope")
    assert proc.returncode == 2 and "no model named 'nope'" in proc.stderr
