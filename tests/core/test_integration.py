"""Whole-process checks on full MNIST: slower, still part of `make test`."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mnist_core.training import rundir

from mnist_core.models import store
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _env(tmp_path):
    return {**os.environ, "MNIST_STUDIO_MODELS": str(tmp_path / "models"), "MNIST_STUDIO_RUNS": str(tmp_path / "runs")}


def test_softmax_one_epoch_on_full_mnist_reaches_90_percent(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "train", "--model", "softmax", "--epochs", "1",
                           "--json"], capture_output=True, text=True, cwd=REPO, env=_env(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["test_accuracy"] >= 0.90, result
    card = json.loads((tmp_path / "models" / result["name"] / "card.json").read_text())
    assert card["train_size"] == 55000 and card["dataset_sha256"].startswith("06af5dfe")


def test_sigkill_leaves_store_unchanged_and_run_interrupted(tmp_path, monkeypatch):
    env = _env(tmp_path)
    monkeypatch.setenv("MNIST_STUDIO_MODELS", env["MNIST_STUDIO_MODELS"])
    monkeypatch.setenv("MNIST_STUDIO_RUNS", env["MNIST_STUDIO_RUNS"])
    run_dir = tmp_path / "runs" / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "mnist_core", "train", "--model", "cnn", "--epochs", "2",
                             "--name", "never", "--run-dir", str(run_dir), "--quiet"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = rundir.RunDir(run_dir)
    deadline = time.time() + 180
    while time.time() < deadline and len(run.events("batch")) < 3:
        time.sleep(0.2)
    assert run.status()["state"] == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    status = run.status()
    assert status["state"] == "interrupted" and "ended without a final status" in status["error"]
    assert len(run.events("batch")) >= 3 and run.config().name == "never"
    assert store.list_names() == []
    models = tmp_path / "models"
    assert not models.exists() or not any(models.iterdir())
