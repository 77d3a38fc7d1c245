"""Smoke test of bench/conv_profile.py on tiny settings (speed itself is never asserted)."""

import importlib.util
import json
import subprocess
import sys

from tests.conftest import REPO


def _bench():
    spec = importlib.util.spec_from_file_location("conv_profile", REPO / "bench" / "conv_profile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args):
    return subprocess.run([sys.executable, "bench/conv_profile.py", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_table_and_json_name_every_operation():
    proc = _run("--batch", "16", "--repeats", "1", "--images", "64", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    ops = [r["op"] for r in report["rows"]]
    bench = _bench()
    timed_ops = 1 + 2 * len(bench.CONVS)  # the matmul, then each conv forward and forward + weight grad
    assert ops[0] == "matmul 2048x2048" and len(ops) == timed_ops + len(bench.NETS)
    assert ops[1:timed_ops:2] == [c[0] + " forward" for c in bench.CONVS]
    assert ops[timed_ops:] == [f"forward pass, {label}, 64 images" for label, _ in bench.NETS]
    assert all(r["ms"] > 0 for r in report["rows"])
    assert all(r["gflops"] > 0 for r in report["rows"][:timed_ops])
    assert all(r["gflops"] is None for r in report["rows"][timed_ops:])
    proc = _run("--batch", "16", "--repeats", "1", "--images", "32")
    assert proc.returncode == 0, proc.stderr
    assert "conv1 24@3x3 on 12x12x4 (fast: s2d) fwd + weight grad" in proc.stdout and "GFLOP/s" in proc.stdout
