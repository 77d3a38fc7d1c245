"""Smoke test of bench/fit_return.py on tiny settings (the wait itself is never asserted)."""

import json
import subprocess
import sys

from tests.conftest import REPO


def test_both_settings_are_measured_and_reported():
    proc = subprocess.run([sys.executable, "bench/fit_return.py", "--runs", "1", "--subset", "300", "--epochs", "1",
                           "--compare", "--json"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = {r["label"]: r for r in report["rows"]}
    assert set(rows) == {"as shipped (autotuning off)", "tf.data autotuning on"}
    for row in rows.values():
        assert row["runs"] == 1 and len(row["waits"]) == 1 and 0 <= row["median_s"] == row["max_s"] < 60
        assert row["slow_runs"] == int(row["waits"][0] > 0.1)
    assert len(report["load"]) == 2 and report["machine"]
