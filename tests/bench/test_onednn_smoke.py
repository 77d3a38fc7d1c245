"""Smoke test of bench/onednn.py on tiny settings (speed itself is never asserted)."""

import os
import subprocess
import sys

from tests.conftest import REPO


def test_bench_prints_on_off_figures_accuracy_and_determinism():
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(REPO / "models")}  # canvas readings use the shipped default
    proc = subprocess.run([sys.executable, "bench/onednn.py", "--tasks", "fast,canvas", "--fast-images", "512",
                           "--canvas", "3", "--repeats", "1"], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "oneDNN on and off:" in out and "load" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert "off/on" in lines["fast"] and "off/on" in lines["canvas"]
    assert out.count("same seed, same weights in every run: yes") == 2  # one process per setting: trivially
    assert "accuracy on vs off" in out and "answers on ['7'], off ['7']" in out
    assert "WARNING" not in out  # TensorFlow followed the setting in both processes
