"""A fine-tuning run's directory: create it, find it again, read it back, launch it as its own process.

A fine-tuning run is a run directory like a training run (config.json holds
the base model's TrainConfig), plus finetune.json (FinetuneConfig), status
kind "finetune" and, once done, heldout.npz (the held-out inputs with both
models' probabilities).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mnist_core import access, paths
from mnist_core.training.finetune import (HELDOUT_FILE, FinetuneConfig, base_train_config, check_base,
                                          default_name)
from mnist_core.training.finetune_data import save_uploads
from mnist_core.training.rundir import RunDir, list_runs, spawn

FINETUNE_FILE = "finetune.json"
KIND = "finetune"


def create_run(config: FinetuneConfig, root: Path | None = None, owner: int | None = None) -> RunDir:
    """A queued run directory owned by `owner` (a waiting process: the queue never spawns `train` for it)."""
    access.require_editor(f"fine-tune model '{config.base}'")
    config.validate()
    base_card = check_base(config.base)
    name = config.name or default_name(config.base)
    config = replace(config, name=name)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-finetune-{config.base[:24]}-{secrets.token_hex(2)}"
    run = RunDir.create(base_train_config(base_card, config, name), root, run_id, pid=owner or os.getpid(), kind=KIND)
    config.save(run.path / FINETUNE_FILE)
    return run


def is_finetune(run: RunDir) -> bool:
    return (run.path / FINETUNE_FILE).is_file()


def load_config(run: RunDir) -> FinetuneConfig:
    return FinetuneConfig.load(run.path / FINETUNE_FILE)


def list_finetunes(root: Path | None = None) -> list[RunDir]:
    return [r for r in list_runs(root) if is_finetune(r)]


def launch(config: FinetuneConfig, root: Path | None = None, uploads: list | None = None,
           holdout_uploads: list | None = None) -> RunDir:
    """Queue a fine-tuning run as its own process (`finetune --run-dir`) and return at once.

    uploads/holdout_uploads ([(name, bytes)]) are written into the run directory (save_uploads) and used
    instead of the config's paths. The process waits for its turn in the run queue.
    """
    from mnist_core.training import queue

    root = Path(root or paths.runs_dir())
    queue.max_runs()  # an unusable setting fails before anything is written
    run = create_run(config, root)
    config = load_config(run)
    if uploads is not None:
        config.images = str(save_uploads(run.path / "collection", uploads))
    if holdout_uploads is not None:
        config.holdout_images = str(save_uploads(run.path / "holdout", holdout_uploads))
    config.save(run.path / FINETUNE_FILE)
    with queue.locked(root):  # the child records itself only after we have
        spawn(run, ["finetune", "--run-dir", str(run.path), "--quiet"])
    return run


def heldout_arrays(run: RunDir) -> dict | None:
    """The held-out inputs, labels, files and both models' probabilities a finished run kept."""
    try:
        with np.load(run.path / HELDOUT_FILE, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None
