"""Where the project keeps its data, models and runs.

Every location can be moved with an environment variable so tests and
benchmarks never touch the user's real store.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    return Path(os.environ.get("MNIST_STUDIO_MODELS", REPO_ROOT / "models"))


def runs_dir() -> Path:
    return Path(os.environ.get("MNIST_STUDIO_RUNS", REPO_ROOT / "runs"))


def collections_dir() -> Path:
    """The personal handwriting collection: corrections given on the Draw page (git-ignored)."""
    return Path(os.environ.get("MNIST_STUDIO_COLLECTIONS", REPO_ROOT / "collections"))


def repo_mnist() -> Path:
    return REPO_ROOT / "data" / "mnist.npz"
