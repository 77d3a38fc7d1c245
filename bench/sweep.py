"""Sweep costs: Ray's overhead per trial, two trials at once, ASHA's saving, Ray's start-up and idle memory.

    python bench/sweep.py [--trials 8] [--epochs 2] [--train-subset N] [--asha-epochs 4]

1. The same `--trials` trainings of `fast` (seeds 0..N-1) as sequential CLI runs
   (`python -m mnist_core train`), then as a sweep with one trial at once and
   with two at once, all in this one run: the sweep's wall time over the
   sequential one (Ray's overhead per trial) and whether two at once win.
2. A random learning-rate search (same searcher seed) with and without ASHA:
   trial-epochs run and the best validation accuracy of each.
3. Ray's local start-up (ray.init) and the memory its idle processes hold.
Models and runs go to a temporary folder, never the repo's store.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _tree_rss_mib(root_pid: int) -> float:
    """Resident memory of every process below root_pid (Ray's GCS, raylet, workers), in MiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(proc.name))
            rss[int(proc.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total / 2**20


def ray_startup() -> tuple[float, float]:
    import ray

    from mnist_core import cluster

    info = cluster.connect()
    time.sleep(5)  # let the prestarted workers settle
    memory = _tree_rss_mib(os.getpid())
    ray.shutdown()
    return info["start_seconds"], memory


def sequential(args, root: Path) -> float:
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(root / "models-seq"), "MNIST_STUDIO_RUNS": str(root / "runs-seq")}
    t0 = time.perf_counter()
    for seed in range(args.trials):
        cmd = [sys.executable, "-m", "mnist_core", "train", "--model", "fast", "--epochs", str(args.epochs),
               "--seed", str(seed), "--now", "--quiet", "--json"]
        if args.train_subset:
            cmd += ["--train-subset", str(args.train_subset)]
        subprocess.run(cmd, env=env, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - t0


def run_sweep(config, root: Path, label: str) -> tuple[float, dict]:
    from mnist_core.training import sweep_ray, sweeps

    os.environ["MNIST_STUDIO_RUNS"] = str(root / f"runs-{label}")
    os.environ["MNIST_STUDIO_MODELS"] = str(root / f"models-{label}")
    run = sweeps.create(config)
    t0 = time.perf_counter()
    view = sweep_ray.run_sweep(run)
    return time.perf_counter() - t0, view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-subset", type=int, default=None)
    parser.add_argument("--asha-epochs", type=int, default=4)
    args = parser.parse_args()

    from bench._machine import load, machine
    from mnist_core.training import sweeps
    from mnist_core.training.config import TrainConfig

    print(f"machine: {machine()}; load {load()}")
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    start_s, idle_mib = ray_startup()
    print(f"Ray local start-up (ray.init): {start_s:.2f} s; idle Ray processes: {idle_mib:.0f} MiB resident")

    base = TrainConfig.for_model("fast", epochs=args.epochs, train_subset=args.train_subset)
    seeds = {"seed": {"kind": "list", "values": list(range(args.trials))}}
    seq = sequential(args, root)
    one, view = run_sweep(sweeps.SweepConfig(base, seeds, search="grid", concurrent=1, keep=0), root, "c1")
    ray_start = float(sweeps.get_sweep(view["id"], root / "runs-c1").status().get("ray_start_seconds") or 0)
    two, _ = run_sweep(sweeps.SweepConfig(base, seeds, search="grid", concurrent=2, keep=0), root, "c2")
    print(f"{args.trials} trials of fast, {args.epochs} epochs, train subset {args.train_subset or 'all'}:")
    print(f"  sequential CLI runs      {seq:7.1f} s  ({seq / args.trials:.1f} s per trial)")
    print(f"  sweep, 1 trial at once  {one:7.1f} s  overhead vs sequential: {one / seq - 1:+.1%} "
          f"({(one - ray_start) / seq - 1:+.1%} per trial without Ray's {ray_start:.1f} s start-up)")
    print(f"  sweep, 2 trials at once {two:7.1f} s  speed-up vs sequential: {seq / two:.2f}x")

    base = TrainConfig.for_model("fast", epochs=args.asha_epochs, train_subset=args.train_subset)
    space = {"lr": sweeps.range_spec("lr", 1e-4, 3e-1, log=True)}
    rows = []
    for asha in (False, True):
        config = sweeps.SweepConfig(base, space, search="random", trials=args.trials, concurrent=2, asha=asha, keep=0)
        seconds, view = run_sweep(config, root, f"asha{int(asha)}")
        epochs_run = sum(t["epoch"] for t in view["trials"])
        rows.append((asha, seconds, epochs_run, view["best"]["last_val_accuracy"], view["counts"]["stopped"]))
    print(f"random lr search, {args.trials} trials x {args.asha_epochs} epochs, 2 at once:")
    for asha, seconds, epochs_run, best, stopped in rows:
        print(f"  ASHA {'on ' if asha else 'off'}: {epochs_run:3d} trial-epochs, {stopped} stopped early, "
              f"best val accuracy {best:.4f}, {seconds:.1f} s")
    saved = 1 - rows[1][2] / rows[0][2]
    print(f"  ASHA saved {saved:.0%} of the trial-epochs; best val accuracy {rows[1][3] - rows[0][3]:+.4f}")


if __name__ == "__main__":
    main()
