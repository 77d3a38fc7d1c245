"""Smoke test of bench/cold_start.py with one repeat: it runs, and the Home page path never imports TensorFlow."""

import subprocess
import sys

import pytest

from tests.conftest import CHROMIUM, REPO, browser_required

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_one_repeat_reports_times_and_no_tensorflow():
    if not CHROMIUM.exists() and not browser_required():
        pytest.skip(f"{CHROMIUM} is not installed")
    proc = subprocess.run([sys.executable, "bench/cold_start.py", "--repeats", "1"], capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "repeat 1: server ready after" in proc.stdout
    assert "TensorFlow loaded in the server: no" in proc.stdout
    assert "median of 1" in proc.stdout and "one-line Streamlit app" in proc.stdout
