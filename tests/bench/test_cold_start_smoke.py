"""Smoke test of bench/cold_start.py with one repeat: it runs, and the Home page path never imports TensorFlow."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_one_repeat_reports_times_and_no_tensorflow():
    if not Path("/usr/bin/chromium").exists() and os.environ.get("MNIST_STUDIO_REQUIRE_BROWSER") != "1":
        pytest.skip("/usr/bin/chromium is not installed")
    proc = subprocess.run([sys.executable, "bench/cold_start.py", "--repeats", "1"], capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "repeat 1: server ready after" in proc.stdout
    assert "TensorFlow loaded in the server: no" in proc.stdout
    assert "median of 1" in proc.stdout and "one-line Streamlit app" in proc.stdout
