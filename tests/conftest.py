"""Shared fixtures. Every test session gets its own models/ and runs/ so the
real store is never touched, and synthetic splits keep unit tests fast."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="mnist-studio-tests-"))
os.environ["MNIST_STUDIO_MODELS"] = str(_SESSION_TMP / "models")
os.environ["MNIST_STUDIO_RUNS"] = str(_SESSION_TMP / "runs")
os.environ["MNIST_STUDIO_COLLECTIONS"] = str(_SESSION_TMP / "collections")  # never the repo's own collections/

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def synthetic_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: class k lights a bar whose position depends on k, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.int32)
    x = rng.uniform(0, 0.2, (n, 28, 28, 1)).astype(np.float32)
    for i, k in enumerate(y):
        row = 3 + 2 * int(k)
        x[i, row:row + 2, 4:24, 0] = 1.0
    return x, y


@pytest.fixture(scope="session")
def tiny_splits():
    from mnist_core.data.mnist import Splits

    x, y = synthetic_images(600, seed=1)
    xt, yt = synthetic_images(200, seed=2)
    return Splits(x[:500], y[:500], x[500:], y[500:], xt, yt, sha256="synthetic")


@pytest.fixture
def store_root(tmp_path, monkeypatch):
    root = tmp_path / "models"
    monkeypatch.setenv("MNIST_STUDIO_MODELS", str(root))
    return root


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("MNIST_STUDIO_RUNS", str(root))
    return root


CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = "MNIST_STUDIO_REQUIRE_BROWSER"


def browser_required() -> bool:
    """MNIST_STUDIO_REQUIRE_BROWSER=1 (or true, yes, on; CI): a missing Chromium fails instead of skipping."""
    return os.environ.get(REQUIRE_BROWSER, "").strip().lower() in ("1", "true", "yes", "on")

# `make test` runs the suite in two parts: two pytest-xdist workers for everything that can share the machine,
# then, one at a time, the `serial` tests: every `browser` one (a real server and Chromium each, and figures
# with time limits) and these (node ids or files): Ray starts its own local cluster on every core; the
# thirty-process queue test and the process pools once hung or starved under xdist.
SERIAL = (
    "tests/core/training/test_sweep_ray.py",
    "tests/core/handwriting/test_on_ray.py",
    "tests/app/test_batch_on_ray.py",
    "tests/core/training/test_queue.py::test_thirty_starts_never_run_more_than_n",
    "tests/core/data/test_shapes.py::test_workers_make_the_same_drawings",
)


def _serial(item) -> bool:
    return "browser" in item.keywords or any(
        item.nodeid == s or item.nodeid.startswith((s + "::", s + "[")) for s in SERIAL)


def pytest_collection_modifyitems(config, items):
    """Mark the serial tests (before -m selects by marker); browser tests need Debian's Chromium: skip them
    without it, except in CI where that is a failure."""
    for item in items:
        if _serial(item):
            item.add_marker(pytest.mark.serial)
    if CHROMIUM.exists():
        return
    if browser_required():
        raise pytest.UsageError(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (run `make browser`)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
