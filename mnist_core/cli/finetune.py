"""finetune: teach a saved model a handwriting collection, measured before and after on held-out images."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from mnist_core.cli.common import UserError
from mnist_core.training import finetune as ft
from mnist_core.training import finetune_runs as ftr
from mnist_core.training import queue, rundir


def _config(args) -> ft.FinetuneConfig:
    if not args.base or not args.images:
        raise UserError("give the model to start from and the labelled images: "
                        "finetune --base default --images DIR_OR_ZIP")
    defaults = ft.FinetuneConfig(base=args.base, images=args.images)
    picks = {"holdout": args.holdout, "epochs": args.epochs, "lr": args.lr, "replay": args.replay,
             "seed": args.seed, "batch_size": args.batch_size, "adapt_share": args.adapt_share}
    values = {k: v for k, v in picks.items() if v is not None}
    return ft.FinetuneConfig(**{**defaults.to_dict(), **values, "holdout_images": args.holdout_images,
                                "by_writer": args.by_writer, "name": args.name,
                                "augment": not args.no_augment}).validate()


def _run_dir(args) -> tuple[rundir.RunDir, ft.FinetuneConfig | ft.Plan]:
    if args.run_dir:  # the dashboard created it and started us (training/finetune_runs.launch)
        run = rundir.RunDir(Path(args.run_dir))
        if not ftr.is_finetune(run):
            raise UserError(f"{args.run_dir} is not a fine-tuning run directory (no {ftr.FINETUNE_FILE})")
        queue.sync(run.path.parent)  # launch() records our pid under the lock first
        return run, ftr.load_config(run)
    config = _config(args)
    prepared = ft.plan(config)  # every input problem is reported now, before a run directory exists
    run = ftr.create_run(config, owner=os.getpid())
    prepared.config = ftr.load_config(run)  # with its name now chosen
    return run, prepared


def cmd_finetune(args) -> int:
    t0 = time.time()
    run, prepared = _run_dir(args)
    if not args.json:
        print(f"run {run.path}", file=sys.stderr)
    try:
        if not args.now and not queue.wait_turn(run):
            print("cancelled while queued: nothing was trained", file=sys.stderr)
            return 3
        return _finetune_and_report(prepared, run, args, t0)
    finally:
        queue.dispatch(run.path.parent)


def _finetune_and_report(prepared, run: rundir.RunDir, args, t0: float) -> int:
    from mnist_core.cli.training import TerminalProgress
    from mnist_core.training.rundir import Cancelled

    config = prepared.config if isinstance(prepared, ft.Plan) else prepared
    the_plan = prepared if isinstance(prepared, ft.Plan) else None
    if not args.json and not args.quiet:
        print(f"fine-tuning '{config.base}' (reading the images, measuring before: MNIST's 10,000 test images "
              "and the held-out part)...", file=sys.stderr)
    try:  # the run's lifecycle (in ft.finetune) records every ending, an input problem's reason included
        card = ft.finetune(config, run, progress=None if (args.quiet or args.json) else TerminalProgress(),
                           prepared=the_plan)
    except Cancelled:
        print("cancelled: the run was asked to stop; nothing was saved", file=sys.stderr)
        return 3
    out = {**summary(card), "seconds": round(time.time() - t0, 3), "run_dir": str(run.path)}
    if args.json:
        print(json.dumps(out))
        return 0
    f = card["finetune"]
    print(f"saved model '{card['name']}' (from '{f['base']}', {f['split']['adapt_n']} adaptation image(s), "
          f"split {f['split']['method']}, {f['epochs_trained']} epoch(s), {out['seconds']:.0f}s)")
    lo_b, hi_b = f["heldout_ci95_before"]
    lo_a, hi_a = f["heldout_ci95_after"]
    print(f"held-out ({f['heldout_n']} images never trained on): {f['heldout_before']:.2%} "
          f"[{lo_b:.1%}-{hi_b:.1%}] -> {f['heldout_after']:.2%} [{lo_a:.1%}-{hi_a:.1%}]; "
          f"{f['fixed']} fixed, {f['broken']} broken")
    print(f"MNIST test: {f['mnist_before']:.2%} -> {f['mnist_after']:.2%} ({f['mnist_change'] * 100:+.2f} points, "
          f"limit -{f['mnist_limit'] * 100:.1f})")
    print(("success: " if f["success"] else "NOT a success: ") + f["note"])
    if f.get("advice"):
        print(f["advice"])
    return 0


def register(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune a saved model on labelled handwriting; before/after on held-out")
    p.add_argument("--base", help="the saved model to start from (it is not changed)")
    p.add_argument("--images", help="labelled images: a folder or ZIP (7/x.png, 7/writer/x.png, 7_x.png)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--holdout", type=float, help="fraction held out, of each digit or of the writers "
                                                     "(default 0.5)")
    group.add_argument("--holdout-images", help="a separate labelled collection to measure on instead of a split")
    p.add_argument("--by-writer", action="store_true",
                   help="hold out whole writers (the folder beside the label folder): none of them is seen")
    p.add_argument("--epochs", type=int, help="at most this many epochs (default 3; early stopping on a "
                                              "validation slice of the adaptation part)")
    p.add_argument("--lr", type=float, help="learning rate (default 1e-4)")
    p.add_argument("--replay", type=float, help="MNIST training images mixed in per adaptation image (default 16)")
    p.add_argument("--adapt-share", type=float,
                   help="the adaptation images' share of every epoch, repeated and augmented anew to reach it "
                        "(default 0.25; 0: each once)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, help="seed of the split and the training (default 0)")
    p.add_argument("--no-augment", action="store_true", help="no rotation/shift/zoom of the adaptation images")
    p.add_argument("--name", help="name of the new model (default BASE-ft-TIMESTAMP)")
    p.add_argument("--run-dir", help=argparse_hidden())
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--now", action="store_true", help="start at once instead of waiting in the run queue")
    p.set_defaults(func=cmd_finetune)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def summary(card: dict) -> dict:
    """The --json object of a fine-tuned model's card (accuracies as fractions)."""
    done = card["finetune"]
    keys = ("base", "heldout_before", "heldout_after", "heldout_n", "heldout_ci95_before", "heldout_ci95_after",
            "mnist_before", "mnist_after", "mnist_held", "success", "epochs_trained", "fixed", "broken", "seconds",
            "note")
    return {"name": card["name"], **{k: done[k] for k in keys}, "adapt_n": done["split"]["adapt_n"],
            "split": done["split"]["method"], "run_id": card.get("run_id")}
