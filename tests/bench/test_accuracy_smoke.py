"""Smoke test of bench/accuracy.py on tiny settings."""

import json
import os
import subprocess
import sys

from mnist_core.models import store
from tests.conftest import REPO
from tests.hostile.digits import digit_image, template_net


def _run(models_dir, *args):
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models_dir)}
    return subprocess.run([sys.executable, "bench/accuracy.py", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)


def test_table_with_interval_ensemble_members_and_handwriting(tmp_path):
    from mnist_core.models import ensembles
    from mnist_core.data.mnist import load_splits

    models = tmp_path / "models"
    store.save("t1", template_net(), {"kind": "numpy_softmax", "backend": "numpy", "test_accuracy": 0.5}, root=models)
    store.save("t2", template_net(scale=20.0), {"kind": "numpy_softmax", "backend": "numpy", "test_accuracy": 0.4}, root=models)
    ensembles.create("both", ["t1", "t2"], root=models, splits=load_splits())
    photos = tmp_path / "photos"
    for d in (1, 7):
        (photos / str(d)).mkdir(parents=True)
        digit_image(d).save(photos / str(d) / f"{d}.png")
    proc = _run(models, "--test-n", "300", "--images", str(photos))
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.split()}
    assert {"t1", "t2", "both"} <= set(lines) and "95% CI" in proc.stdout
    assert "/300" in lines["both"] and "t1 50.00%, t2 40.00%" in lines["both"]
    proc = _run(models, "--models", "both", "--test-n", "200", "--images", str(photos), "--json")
    row = json.loads(proc.stdout)["rows"][0]
    lo, hi = row["ci95"]
    assert row["n"] == 200 and lo <= row["accuracy"] <= hi and row["kind"] == "ensemble"
    assert row["handwriting"]["n"] == 2


def test_without_handwriting_and_with_a_missing_model(tmp_path):
    models = tmp_path / "models"
    store.save("t1", template_net(), {"kind": "numpy_softmax", "backend": "numpy"}, root=models)
    proc = _run(models, "--test-n", "100", "--images", "none", "--json")
    row = json.loads(proc.stdout)["rows"][0]
    assert "handwriting" not in row and row["n"] == 100
    proc = _run(models, "--models", "ghost")
    assert proc.returncode == 2 and "no model named 'ghost'" in proc.stderr


def test_a_shapes_model_is_skipped_with_a_note(tmp_path):
    import shutil

    models = tmp_path / "models"
    store.save("t1", template_net(), {"kind": "numpy_softmax", "backend": "numpy"}, root=models)
    shutil.copytree(REPO / "models" / "shapes", models / "shapes", ignore=shutil.ignore_patterns("cache-*", ".cache-*"))
    proc = _run(models, "--test-n", "100", "--images", "none", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [r["model"] for r in json.loads(proc.stdout)["rows"]] == ["t1"]
    assert "skipping 'shapes', a shapes model" in proc.stderr
