"""Smoke test of bench/tsne.py on a tiny size (speed itself is never asserted)."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_tsne_bench_prints_time_and_neighbour_agreement():
    proc = subprocess.run([sys.executable, "bench/tsne.py", "--sizes", "60"], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(l for l in proc.stdout.splitlines() if "images:" in l)
    assert re.search(r"60 images: t-SNE +[\d.]+ s · 5-NN same label: t-SNE 0\.\d{3}, PCA 0\.\d{3}", line), line
    assert "load " in proc.stdout
