"""Faults survived: trainings killed at any moment, a disk that fills during a save, corrupt files."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_core.models import store
from mnist_core.training import loop, rundir
from mnist_core.training.config import TrainConfig

from mnist_core.models.loading import load

REPO = Path(__file__).resolve().parents[2]
# Kill moments: after the event that opens each phase, plus a random delay that lands inside it.
PHASES = {"build": ("start", 0.4), "fit": ("plan", 0.6), "evaluate": ("epoch", 0.05), "save": ("test", 0.03)}


def cli_train(run_dir: Path, models: Path, name: str, extra_env=None, preexec=None, **popen):
    cmd = [sys.executable, "-m", "mnist_core", "train", "--model", "numpy_mlp", "--epochs", "1",
           "--train-subset", "3000", "--name", name, "--run-dir", str(run_dir), "--now", "--quiet",
           "--replace"]  # every run overwrites "victim" on purpose: the name rule asks for it to be said
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(run_dir.parent),
           **(extra_env or {})}
    return subprocess.Popen(cmd, cwd=REPO, env=env, preexec_fn=preexec, **popen)


def seed_store(models: Path, splits) -> dict:
    """'keep' (never touched again) and 'victim' (overwritten by the runs under test)."""
    for name in ("keep", "victim"):
        loop.train(TrainConfig.for_model("numpy_mlp", epochs=1, name=name), splits=splits, store_root=models)
    return {name: (models / name / store.CARD_FILE).read_bytes() for name in ("keep", "victim")}


def assert_consistent(models: Path, x: np.ndarray) -> dict:
    """Every listed model has a readable card and loads and predicts; no half-written model is listed."""
    cards = store.list_models(models)
    assert [c["name"] for c in cards] == ["keep", "victim"], cards
    assert not [c for c in cards if "error" in c], cards
    for card in cards:
        probs = load(card["name"], models).predict_proba(x)
        assert probs.shape == (len(x), 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-3)
    return {c["name"]: c for c in cards}


@pytest.mark.slow
def test_sigkill_at_twenty_moments_leaves_a_consistent_store(tmp_path, tiny_splits):
    models, runs = tmp_path / "models", tmp_path / "runs"
    before = seed_store(models, tiny_splits)
    rng = random.Random(14)
    phases = [name for name in PHASES for _ in range(5)]
    landed = []
    for i, phase in enumerate(phases):
        event, spread = PHASES[phase]
        run = rundir.RunDir(runs / f"kill-{i:02d}")
        proc = cli_train(run.path, models, "victim", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not run.events(event) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, spread))
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        kinds = [e["type"] for e in run.events()]
        mid_save = any(p.name.startswith((store.TMP, store.OLD)) for p in models.iterdir())
        landed.append((phase, kinds[-1] if kinds else "-", killed, mid_save))
        state = run.status()["state"]
        assert state == ("interrupted" if killed else "completed"), (i, phase, kinds, run.status())
        cards = assert_consistent(models, tiny_splits.x_test[:5])
        assert (models / "keep" / store.CARD_FILE).read_bytes() == before["keep"]
        if "saved" in kinds:  # the save finished before the kill: the new model is in place
            assert cards["victim"]["run_id"] == run.id
    killed_after = {last for _, last, killed, _ in landed if killed}
    print("kills (phase aimed at, last event written, killed, inside store.save):", landed)
    assert sum(k for _, _, k, _ in landed) >= 15
    assert {"start", "plan", "test"} <= killed_after or len(killed_after) >= 3, landed
    store.copy("keep", "after", root=models)  # the next writer clears what the kills left behind
    assert not [p.name for p in models.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def limit_file_size(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes fail EFBIG
    return apply


@pytest.mark.slow
def test_a_disk_that_fills_during_the_save(tmp_path, tiny_splits):
    models, runs = tmp_path / "models", tmp_path / "runs"
    before = seed_store(models, tiny_splits)
    listing = sorted(p.name for p in models.iterdir())
    run = rundir.RunDir(runs / "full-disk")
    proc = cli_train(run.path, models, "victim", preexec=limit_file_size(200_000),  # the MLP's file is ~1 MB
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    assert "error: the disk is full" in err and "Traceback" not in err
    status = run.status()
    assert status["state"] == "failed" and "disk is full" in status["error"] and "store is unchanged" in status["error"]
    assert "test" in [e["type"] for e in run.events()]  # it failed at the save, after training and testing
    assert sorted(p.name for p in models.iterdir()) == listing
    assert {n: (models / n / store.CARD_FILE).read_bytes() for n in before} == before
    assert_consistent(models, tiny_splits.x_test[:5])


def test_full_disk_reason_names_the_file_and_the_store():
    exc = OSError(28, "No space left on device", "/x/.tmp-victim-1/model.npz")
    assert rundir.failure_reason(exc).startswith("the disk is full or a file-size limit was reached while "
                                                 "writing model.npz (No space left on device)")
    assert rundir.failure_reason(ValueError("bad")) == "ValueError: bad"


def broken_runs(root: Path) -> dict[str, rundir.RunDir]:
    """A run with a garbage line mid-events, one with corrupt status.json, one whose status.json cannot be read."""
    config = TrainConfig.for_model("numpy_softmax", epochs=2, name="fine")
    runs = {}
    for key in ("garbled-events", "corrupt-status", "unreadable-status"):
        run = rundir.RunDir.create(config, root, run_id=key)
        run.append_event("plan", epochs=2, steps_per_epoch=4, train_size=500, params=7850)
        run.append_event("epoch", epoch=1, loss=1.0, accuracy=0.5)
        run.write_status("completed", pid=None, ended=time.time(), test_accuracy=0.9, progress=1.0)
        runs[key] = run
    events = runs["garbled-events"].path / "events.jsonl"
    lines = events.read_text().splitlines()
    events.write_text("\n".join([lines[0], "\x00garbage{{{ not json", lines[1]]) + "\n")
    (runs["corrupt-status"].path / "status.json").write_text('{"state": "runn')
    (runs["unreadable-status"].path / "status.json").unlink()
    (runs["unreadable-status"].path / "status.json").mkdir()  # root reads any file: a folder cannot be read
    return runs


def test_broken_runs_are_listed_with_the_reason(runs_root):
    runs = broken_runs(runs_root)
    assert [e["type"] for e in runs["garbled-events"].events()] == ["plan", "epoch"]
    assert runs["garbled-events"].status()["state"] == "completed"
    for key in ("corrupt-status", "unreadable-status"):
        status = runs[key].status()
        assert status["state"] == "broken" and status["error"].startswith("status.json cannot be read"), status
    out = subprocess.run([sys.executable, "-m", "mnist_core", "runs"], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "MNIST_STUDIO_RUNS": str(runs_root)})
    assert out.returncode == 0, out.stderr
    assert "broken" in out.stdout and "status.json cannot be read" in out.stdout


def break_models(models: Path) -> None:
    """'badcard' with a corrupt card.json, 'badfile' with a corrupt model file, beside good models."""
    (models / "badcard").mkdir()
    (models / "badcard" / store.CARD_FILE).write_text('{"name": "badcard", "kind": ')
    good = next(c for c in store.list_models(models) if c.get("backend") == "numpy")
    (models / "badfile").mkdir()
    card = {**json.loads((models / good["name"] / store.CARD_FILE).read_text()), "name": "badfile"}
    (models / "badfile" / store.CARD_FILE).write_text(json.dumps(card))
    (models / "badfile" / store.NUMPY_FILE).write_bytes(b"PK\x03\x04 not really a zip")


def test_corrupt_models_are_listed_as_broken_and_the_others_load(tmp_path, tiny_splits):
    models = tmp_path / "models"
    seed_store(models, tiny_splits)
    break_models(models)
    listed = {c["name"]: c for c in store.list_models(models)}
    assert "corrupt card.json" in listed["badcard"]["error"]
    with pytest.raises(store.StoreError, match="badfile"):
        load("badfile", models)
    assert_consistent_others = [load(n, models).predict_proba(tiny_splits.x_test[:2]) for n in ("keep", "victim")]
    assert all(p.shape == (2, 10) for p in assert_consistent_others)
