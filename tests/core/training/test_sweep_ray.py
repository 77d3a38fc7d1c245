"""Sweeps on a real Ray: local end to end, cancel, SIGKILL of the driver, a failing trial, a two-node cluster.

Tiny trials (NumPy or Keras softmax on a few hundred images) and a small Ray
(include_dashboard off, a 128 MB object store) keep all of them to a couple
of minutes on two cores. The cluster test starts a head and a second node
on loopback only and stops them in its teardown.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_core.models import store
from mnist_core.training import sweep_results, sweeps
from mnist_core.training.config import TrainConfig

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def small_ray(monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_RAY_CPUS", "2")
    monkeypatch.setenv("MNIST_STUDIO_RAY_OBJECT_STORE_MB", "128")
    monkeypatch.delenv("MNIST_STUDIO_RAY_ADDRESS", raising=False)


def _sweep(model="numpy_softmax", *params, epochs=3, **kw) -> sweeps.SweepConfig:
    base = TrainConfig.for_model(model, epochs=epochs, train_subset=300)
    return sweeps.SweepConfig(base, dict(sweeps.parse_param(p) for p in params), **kw).validate()


def test_local_sweep_end_to_end(runs_root, store_root):
    from mnist_core.models import selection
    from mnist_core.training import sweep_ray

    sweep = _sweep("numpy_softmax", "lr=log:0.01:2", "batch_size=32,64", search="random", trials=5,
                   concurrent=2, asha=True, keep=2)
    run = sweeps.create(sweep)
    view = sweep_ray.run_sweep(run)

    assert view["state"] == "completed" and run.status()["state"] == "completed"
    assert {"config.json", "sweep.json", "events.jsonl", "status.json"} <= {p.name for p in run.path.iterdir()}
    assert len(view["trials"]) == 5 and view["counts"]["done"] == 5
    assert all(t["state"] in ("completed", "stopped") for t in view["trials"])
    completed = [t for t in view["trials"] if t["state"] == "completed"]
    assert completed and all(t["epoch"] == 3 for t in completed)
    assert all(t["epoch"] < 3 for t in view["trials"] if t["state"] == "stopped")  # ASHA cut these short
    # the kept models are the best completed trials by validation accuracy, saved whole
    best_two = sweep_results.rank(completed)[:2]
    assert sorted(view["saved"]) == sorted(t["model"] for t in best_two)
    assert sorted(store.list_names()) == sorted(view["saved"])
    for name in view["saved"]:
        card = store.read_card(name)
        assert (store.model_dir(name) / store.NUMPY_FILE).is_file() and card["sweep"]["id"] == run.id
        trial = next(t for t in view["trials"] if t["model"] == name)
        assert selection.validation_scores(card)["val_accuracy"] == trial["last_val_accuracy"]
        assert card["config"]["lr"] == pytest.approx(trial["params"]["lr"])
    assert not list(store_root.glob(".tmp-*"))


def test_trial_matches_a_cli_run_and_a_failing_trial_does_not_stop_the_others(runs_root, store_root):
    """Keras softmax: same settings and seed as a plain train() give the same metrics.

    The other trial builds `fast` with a stem it does not have: nothing checks extras before a
    trial starts, so it fails inside its Ray worker, where a real failure would.
    """
    from mnist_core.training import sweep_ray
    from mnist_core.training.loop import train

    base = TrainConfig.for_model("softmax", epochs=2, train_subset=300, extra={"stem": "upside-down"})
    sweep = sweeps.SweepConfig(base, {"model": {"kind": "list", "values": ["softmax", "fast"]}},
                               search="grid", concurrent=2, keep=1).validate()
    run = sweeps.create(sweep)
    view = sweep_ray.run_sweep(run)
    assert view["state"] == "completed"
    failed, ok = sorted(view["trials"], key=lambda t: t["params"]["model"])
    assert failed["state"] == "failed" and "stem must be one of" in failed["error"]
    assert ok["state"] == "completed" and ok["model"]

    card = train(sweeps.trial_config(sweep.base, ok["params"]), save=False)
    assert card["history"]["val_accuracy"] == ok["val_accuracy"]
    assert card["history"]["val_loss"] == pytest.approx(ok["val_loss"], rel=1e-6)
    assert store.read_card(ok["model"])["test_accuracy"] == card["test_accuracy"]


def _launch(sweep, **kw) -> tuple:
    run = sweeps.launch(sweep, **kw)
    return run, run.status()["pid"]


def _wait_for(run, kind: str, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e.get("type") == kind for e in run.events()):
            return
        state = run.status().get("state")
        assert state in ("queued", "running"), f"sweep ended ({state}) before a {kind} event: {run.log_tail()}"
        time.sleep(0.3)
    pytest.fail(f"no {kind} event in {timeout} s: {run.log_tail()}")


def _wait_final(run, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = run.status()
        if status.get("state") not in ("queued", "running"):
            return status
        time.sleep(0.3)
    pytest.fail(f"the sweep did not end in {timeout} s: {run.log_tail()}")


def _kill_leftovers(pid: int, runs_root: Path) -> None:
    """The launched driver and whatever Ray started for it (a worker can outlive a SIGKILLed driver).

    Only processes that carry this test's own runs directory in their environment: nothing anyone else started.
    """
    mark = f"MNIST_STUDIO_RUNS={runs_root}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if mark in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def test_cancel_stops_every_trial_within_seconds(runs_root, store_root):
    sweep = _sweep("numpy_softmax", "lr=0.1,0.2,0.3", epochs=200, search="grid", concurrent=2, keep=1)
    sweep.base.train_subset = None  # full training set: trials that last minutes
    run, pid = _launch(sweep)
    try:
        _wait_for(run, "trial_result")
        asked = time.time()
        run.request_stop()
        status = _wait_final(run, timeout=60)
        stopped_after = time.time() - asked
        assert status["state"] == "cancelled", run.log_tail()
        view = sweep_results.sweep_view(run)
        assert {t["state"] for t in view["trials"]} <= {"cancelled", "pending"}
        assert store.list_names() == []
        print(f"cancel took {stopped_after:.1f} s")
        assert stopped_after < 30
    finally:
        _kill_leftovers(pid, runs_root)


def test_sigkill_of_the_driver_leaves_an_interrupted_sweep_and_whole_models(runs_root, store_root):
    sweep = _sweep("numpy_softmax", "lr=0.1,0.2,0.3,0.4", epochs=2, search="grid", concurrent=1, keep=4)
    run, pid = _launch(sweep)
    try:
        _wait_for(run, "trial_saved")
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        status = run.status()
        assert status["state"] == "interrupted"
        view = sweep_results.sweep_view(run)
        finished = [t for t in view["trials"] if t["state"] == "completed"]
        assert finished and all(len(t["val_accuracy"]) == 2 for t in finished)
        assert all(t["state"] in ("completed", "interrupted") for t in view["trials"])
        for name in store.list_names():  # every model in the store is whole
            assert store.read_card(name)["sweep"]["id"] == run.id
            assert (store.model_dir(name) / store.NUMPY_FILE).is_file()
        assert set(view["saved"]) >= set(store.list_names())
    finally:
        _kill_leftovers(pid, runs_root)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args, env):
    ray_bin = Path(sys.executable).with_name("ray")
    return subprocess.run([str(ray_bin), *args], env=env, capture_output=True, text=True, timeout=120)


def test_two_node_cluster_runs_trials_on_both_nodes(runs_root, store_root, tmp_path):
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}
    port = _free_port()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=100000000"]
    try:
        head = _ray("start", "--head", f"--port={port}", "--include-dashboard=false", *common, env=env)
        assert head.returncode == 0, head.stderr
        node = _ray("start", f"--address=127.0.0.1:{port}", *common, env=env)
        assert node.returncode == 0, node.stderr
        out = subprocess.run(
            [sys.executable, "-m", "mnist_core", "sweep", "--model", "numpy_softmax", "--epochs", "2",
             "--train-subset", "300", "--param", "lr=0.1,0.5", "--search", "grid", "--concurrent", "2",
             "--keep", "2", "--address", f"127.0.0.1:{port}", "--json"],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stderr[-3000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["state"] == "completed" and len(result["saved"]) == 2
        assert result["best"]["val_accuracy"] == max(t["last_val_accuracy"] for t in result["trials"])
        nodes = {t["node"] for t in result["trials"]}
        assert len(nodes) == 2, f"both trials ran on one node: {nodes}"  # one CPU per node, two at once
        assert sorted(store.list_names()) == sorted(result["saved"])
        _bulk_reading_spreads_over_both_nodes(f"127.0.0.1:{port}", env)
    finally:
        _ray("stop", env=env)


def _bulk_reading_spreads_over_both_nodes(address: str, env: dict) -> None:
    """evaluate --images --ray on the same cluster: chunks on both nodes, the same report as the local pool."""
    from tests.fixtures import HANDWRITING

    env = {**env, "MNIST_STUDIO_MODELS": str(REPO / "models")}
    base = [sys.executable, "-m", "mnist_core", "evaluate", "--images", str(HANDWRITING), "--json"]
    reports = []
    for extra in (["--ray", address], []):
        out = subprocess.run(base + extra, env=env, cwd=REPO, capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stderr[-3000:]
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    on_ray, here = reports
    assert on_ray.pop("ray") == {"address": address, "nodes": 2, "nodes_used": 2, "chunks": 2}
    on_ray.pop("seconds"), here.pop("seconds")
    assert on_ray == here


def test_train_seeds_keeps_every_seed_and_their_ensemble(runs_root, store_root):
    env = {**os.environ, "MNIST_STUDIO_RUNS": str(runs_root), "MNIST_STUDIO_MODELS": str(store_root)}
    out = subprocess.run([sys.executable, "-m", "mnist_core", "train", "--model", "numpy_softmax", "--epochs", "1",
                          "--train-subset", "200", "--seeds", "0-2", "--ensemble", "seeds", "--concurrent", "2",
                          "--json"], env=env, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(t["params"]["seed"] for t in result["trials"]) == [0, 1, 2]
    assert len(result["saved"]) == 3 and result["ensemble"] == "seeds"
    assert sorted(store.read_card("seeds")["members"]) == sorted(result["saved"])
    assert sorted(store.read_card(n)["config"]["seed"] for n in result["saved"]) == [0, 1, 2]
    listing = subprocess.run([sys.executable, "-m", "mnist_core", "sweeps", "--json"], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert json.loads(listing.stdout)[0]["sweep_id"] == result["sweep_id"]
