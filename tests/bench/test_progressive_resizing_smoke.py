"""Smoke test of bench/progressive_resizing.py on tiny settings (its speed is never asserted)."""

import json
import subprocess
import sys

import numpy as np

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import progressive_resizing as bench  # noqa: E402


def test_the_small_images_are_the_crops_two_by_two_block_means():
    x = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28, 1)
    crop = x[:, 2:26, 2:26]
    assert np.array_equal(bench.images_at(x, 24), crop)
    small = bench.images_at(x, 12)
    assert small.shape == (2, 12, 12, 1)
    assert small[1, 3, 5, 0] == crop[1, 6:8, 10:12, 0].mean()


def test_one_pooled_net_reads_both_image_sizes():
    from mnist_core.training.config import TrainConfig

    net = bench.build_pooled(TrainConfig.for_model("fast"), "max", 32)
    for side in (12, 24):
        probs = np.asarray(net(np.zeros((3, side, side, 1), np.float32)))
        assert probs.shape == (3, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert not net.get_layer("stem").trainable


def test_a_progressive_and_the_reference_recipe_are_measured_and_reported():
    recipes = "fast (flatten head), 24x24 x2;global max head, 12x12 then 24x24"
    proc = subprocess.run([sys.executable, "bench/progressive_resizing.py", "--seeds", "1", "--subset", "600",
                           "--recipes", recipes, "--json"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [r["label"] for r in report["rows"]] == recipes.split(";")
    for row in report["rows"]:
        assert row["seeds"] == 1 and 0 < row["median_seconds"] < 600 and 0 <= row["worst_accuracy"] <= 1
        assert row["reached"] == int(row["worst_accuracy"] >= 0.99)
    assert len(report["load"]) == 2 and report["machine"]


def test_an_unknown_recipe_is_refused_with_the_choices():
    proc = subprocess.run([sys.executable, "bench/progressive_resizing.py", "--recipes", "tiny"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and "unknown recipes ['tiny']" in proc.stderr and "global max head" in proc.stderr
