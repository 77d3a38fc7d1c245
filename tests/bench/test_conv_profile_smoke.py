"""Smoke test of bench/conv_profile.py on tiny settings (speed itself is never asserted)."""

import json
import subprocess
import sys

from tests.conftest import REPO


def _run(*args):
    return subprocess.run([sys.executable, "bench/conv_profile.py", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_table_and_json_name_every_operation():
    proc = _run("--batch", "16", "--repeats", "1", "--images", "64", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    ops = [r["op"] for r in report["rows"]]
    assert ops[0] == "matmul 2048x2048" and len(ops) == 11
    assert all(r["ms"] > 0 for r in report["rows"])
    assert all(r["gflops"] > 0 for r in report["rows"][:9])
    proc = _run("--batch", "16", "--repeats", "1", "--images", "32")
    assert proc.returncode == 0, proc.stderr
    assert "conv1 24@5x5 (fast) fwd + weight grad" in proc.stdout and "GFLOP/s" in proc.stdout
