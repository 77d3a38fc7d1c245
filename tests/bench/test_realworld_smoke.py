"""Smoke tests of bench/realworld.py (the whole table, a quarter of each source) and of bench/finetune_real.py's
leave-one-source-out split."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mnist_core.data import real
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not real.available(), reason="../shared/data/real is not beside the repository")


def test_quick_table_scores_every_source_and_saves_nothing(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models" / "default-zero-shot", models / "default-zero-shot")
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models)}
    proc = subprocess.run([sys.executable, "bench/realworld.py", "--models", "default-zero-shot", "--quick", "--json",
                           "--save"], capture_output=True, text=True, cwd=REPO, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    sources = {s["source"]: s for s in out["default-zero-shot"]["sources"]}
    assert list(sources) == ["optdigits32", "optdigits16", "optdigits8", "uji held-out writers", "photos: as taken"]
    assert sources["optdigits32"]["n"] == 720 and sources["uji held-out writers"]["n"] == 540
    for s in sources.values():  # a zero-shot model is scored on every source, with its interval
        lo, hi = s["ci95"]
        assert 0 <= lo <= s["accuracy"] <= hi <= 1 and s["correct"] + 0 <= s["n"]
    assert sources["optdigits32"]["accuracy"] > 0.95  # the scanned forms read zero-shot
    assert set(out["refusals"]) == {"generated non-digits", "HDS drawings, held-out people"}
    assert not (models / "default-zero-shot" / "realworld.json").exists() or \
        (REPO / "models" / "default-zero-shot" / "realworld.json").read_bytes() == \
        (models / "default-zero-shot" / "realworld.json").read_bytes()  # --quick never saves its figures


def test_finetune_split_holds_out_whole_writers_and_takes_ten_per_digit():
    sys.path.insert(0, str(REPO / "bench"))
    import finetune_real

    adapt, held, how = finetune_real.source_split("uji", 10)
    assert len(adapt) == 100 and "by writer" in how
    labels = [int(name.split("/")[0]) for name, _ in adapt]
    assert np.bincount(labels).tolist() == [10] * 10
    src = real.uji(pens=(0.08,), sizes=(200,))
    writer = {f"uji-{i:05d}.png": w for i, w in enumerate(src.people)}
    adapt_writers = {writer[n.split("/")[1]] for n, _ in adapt}
    held_writers = {writer[n.split("/")[1]] for n, _ in held}
    assert not adapt_writers & held_writers and len(held) == 600
    _, held_opt, how_opt = finetune_real.source_split("optdigits32", 10)
    assert len(held_opt) == 2780 and "no writer ids" in how_opt
