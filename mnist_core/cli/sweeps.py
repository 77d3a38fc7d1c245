"""sweep, sweeps (and train --seeds): hyperparameter sweeps on Ray Tune from the terminal."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from mnist_core.cli.common import UserError
from mnist_core.models import zoo
from mnist_core.training import sweep_results, sweeps
from mnist_core.training.config import TrainConfig
from mnist_core.training.rundir import RunDir


class SweepProgress:
    """One line on stderr: trials done, running, stopped early, failed (plain lines when not a terminal)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty, self.last = self.stream.isatty(), None

    def update(self, counts: dict) -> None:
        done, total = counts.get("completed", 0) + counts.get("stopped", 0) + counts.get("failed", 0), counts["total"]
        filled = int(30 * done / max(1, total))
        line = (f"trials [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} done · {counts.get('running', 0)} running"
                f" · {counts.get('stopped', 0)} stopped early · {counts.get('failed', 0)} failed")
        if line == self.last:
            return
        self.last = line
        self.stream.write(f"\r{line} " if self.tty else line + "\n")
        self.stream.flush()


def _base_config(args) -> TrainConfig:
    if not args.model:
        raise UserError(f"--model is required; choose one of {', '.join(zoo.MODELS)}")
    overrides = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dropout=args.dropout,
                     seed=args.seed, optimizer=args.optimizer, schedule=args.schedule, train_subset=args.train_subset)
    config = TrainConfig.for_model(args.model, **overrides)
    config.augment = config.augment or args.augment
    return config.validate()


def _sweep_config(args) -> sweeps.SweepConfig:
    space = dict(sweeps.parse_param(p) for p in args.param or [])
    return sweeps.SweepConfig(_base_config(args), space, search=args.search, trials=args.trials,
                              concurrent=args.concurrent, asha=args.asha, grace_period=args.grace_period,
                              reduction_factor=args.reduction_factor, keep=args.keep, seed=args.search_seed,
                              cpus_per_trial=args.cpus_per_trial, ensemble=args.ensemble,
                              name=args.name).validate()


def run_and_report(run: RunDir, args) -> int:
    """Run the sweep in `run` in this process; print a summary (or one JSON object); 3 when cancelled."""
    from mnist_core.training import sweep_ray

    t0 = time.time()
    if not args.json:
        print(f"sweep {run.path}", file=sys.stderr)
    progress = None if args.quiet or args.json else SweepProgress()
    view = sweep_ray.run_sweep(run, address=args.address, progress=progress)
    if progress and progress.tty:
        print(file=sys.stderr)
    summary = summarize(view, time.time() - t0)
    if args.json:
        print(json.dumps(summary))
    else:
        print(view["headline"])
        best = summary["best"]
        if best:
            print(f"best: trial {best['number']} {best['params']} val accuracy {best['val_accuracy']:.4f}")
        for t in view["trials"]:
            if t["state"] == "failed":
                print(f"trial {t['number']} failed: {t['error']}", file=sys.stderr)
        print(f"saved: {', '.join(summary['saved']) or 'none'}" +
              (f"; ensemble '{summary['ensemble']}'" if summary["ensemble"] else ""))
    return 3 if view["state"] == "cancelled" else 0


def summarize(view: dict, seconds: float) -> dict:
    best = view["best"]
    return {"sweep_id": view["id"], "state": view["state"], "run_dir": view["path"], "counts": view["counts"],
            "trials": [{k: t[k] for k in ("number", "state", "params", "epoch", "last_val_accuracy", "model",
                                           "error", "node")} for t in view["trials"]],
            "best": best and {"number": best["number"], "params": best["params"],
                              "val_accuracy": best["last_val_accuracy"], "val_loss": best["last_val_loss"],
                              "model": best["model"]},
            "saved": view["saved"], "ensemble": view["ensemble"], "seconds": round(seconds, 3)}


def cmd_sweep(args) -> int:
    if args.run_dir:  # the dashboard started us on a sweep directory it created
        run = RunDir(Path(args.run_dir))
        if not sweeps.is_sweep(run):
            raise UserError(f"{args.run_dir} is not a sweep directory (no {sweeps.SWEEP_FILE})")
        from mnist_core.training import queue

        queue.sync(run.path.parent)  # launch() records our pid under the lock first
    else:
        run = sweeps.create(_sweep_config(args))
    return run_and_report(run, args)


def train_seeds(args, config: TrainConfig) -> int:
    """train --seeds 0-7: one recipe, several seeds, every model kept (and their ensemble when named)."""
    seeds = sweeps.parse_seeds(args.seeds)
    sweep = sweeps.seeds_sweep(config, seeds, ensemble=args.ensemble, concurrent=args.concurrent).validate()
    run = sweeps.create(sweep)
    args.quiet = getattr(args, "quiet", False)
    return run_and_report(run, args)


def cmd_sweeps(args) -> int:
    views = [sweep_results.sweep_view(r) for r in sweeps.list_sweeps()]
    if args.json:
        print(json.dumps([summarize(v, (v.get("ended") or time.time()) - (v.get("started") or time.time()))
                          for v in views]))
        return 0
    if not views:
        print("no sweeps yet")
    for v in views:
        print(f"{v['id']:<44} {v['headline']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sweep", help="search hyperparameters with Ray Tune (a local Ray, or a cluster with --address)",
                       description="Example: sweep --model fast --param lr=log:1e-3:3e-2 --param batch_size=128,256,512 "
                                   "--param dropout=0:0.5 --trials 16 --concurrent 2 --search tpe --asha --keep 3")
    p.add_argument("--model", choices=list(zoo.MODELS), help="model kind; its recipe is the base of every trial")
    p.add_argument("--param", action="append", metavar="KNOB=SPEC",
                   help="a searched knob: VALUE, A,B,C (list), LOW:HIGH (uniform), log:LOW:HIGH, or 0-7 "
                        "(integer range); repeat for each knob")
    p.add_argument("--search", choices=sweeps.SEARCHES, default="random")
    p.add_argument("--trials", type=int, default=8, help="trials for random and tpe (grid runs every point once)")
    p.add_argument("--concurrent", type=int, default=1, help="trials at once")
    p.add_argument("--asha", action="store_true", help="stop weak trials early (ASHA on epochs)")
    p.add_argument("--grace-period", type=int, default=1, help="ASHA: epochs every trial gets")
    p.add_argument("--reduction-factor", type=int, default=2, help="ASHA: keep 1/N of the trials at each rung")
    p.add_argument("--keep", type=int, default=1, help="save the best N trials as models")
    p.add_argument("--ensemble", help="also save the kept models' ensemble under this name")
    p.add_argument("--name", help="prefix of the kept models' names (default: the sweep id)")
    p.add_argument("--search-seed", type=int, default=0, help="the searcher's random seed")
    p.add_argument("--cpus-per-trial", type=float, default=1.0)
    p.add_argument("--address", help="Ray cluster (auto or HOST:PORT; default $MNIST_STUDIO_RAY_ADDRESS, else local)")
    for flag, kind in (("--epochs", int), ("--batch-size", int), ("--lr", float), ("--dropout", float),
                       ("--train-subset", int), ("--seed", int)):
        p.add_argument(flag, type=kind, help="base value (a --param of the same knob overrides it)")
    p.add_argument("--optimizer")
    p.add_argument("--schedule")
    p.add_argument("--augment", action="store_true")
    p.add_argument("--run-dir", help="run a sweep directory the dashboard created")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("sweeps", help="list sweeps and their state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweeps)
