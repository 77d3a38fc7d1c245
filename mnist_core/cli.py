"""python -m mnist_core train | evaluate | predict | models | runs | stop | delete | ensemble | promote"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import runs as runs_mod
from . import store, zoo
from .config import ConfigError, TrainConfig
from .data import MnistLoadError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ banner out of the terminal


class UserError(Exception):
    """Printed as 'error: ...' with exit status 2, never as a traceback."""


class TerminalProgress:
    """A one-line progress bar on stderr (plain lines when not a terminal)."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.tty, self.last = stream, stream.isatty(), 0.0

    def update(self, epoch, epochs, step, steps, logs, eta):
        now = time.time()
        if not self.tty or (now - self.last < 0.1 and step != steps):
            return
        self.last = now
        filled = int(30 * step / steps)
        eta_s = f" ETA {eta:4.0f}s" if eta is not None else ""
        self.stream.write(f"\repoch {epoch}/{epochs} [{'#' * filled}{'.' * (30 - filled)}] {step}/{steps} "
                          f"loss {logs['loss']:.4f} acc {logs['accuracy']:.4f}{eta_s} ")
        self.stream.flush()

    def epoch_end(self, epoch, logs):
        val = f" val_loss {logs['val_loss']:.4f} val_acc {logs['val_accuracy']:.4f}" if "val_loss" in logs else ""
        end = "\n" if self.tty else ""
        self.stream.write(f"{end}epoch {epoch}: loss {logs['loss']:.4f} acc {logs['accuracy']:.4f}{val} "
                          f"({logs['elapsed']:.1f}s)\n")
        self.stream.flush()

    def epoch_model(self, epoch, net):
        return False  # training.Progress's hook: the CLI never stops a run early


def _config_from_args(args) -> TrainConfig:
    if args.run_dir and not args.model and os.path.isfile(os.path.join(args.run_dir, "config.json")):
        return TrainConfig.load(os.path.join(args.run_dir, "config.json"))
    if not args.model:
        raise UserError(f"--model is required; choose one of {', '.join(zoo.MODELS)}")
    overrides = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dropout=args.dropout,
                     seed=args.seed, name=args.name, optimizer=args.optimizer, schedule=args.schedule,
                     train_subset=args.train_subset)
    config = TrainConfig.for_model(args.model, **overrides)
    config.augment = config.augment or args.augment
    config.batch_norm = config.batch_norm or args.batch_norm
    return config.validate()


def cmd_train(args) -> int:
    from .training import Cancelled, train

    config = _config_from_args(args)
    run = None
    if args.run_dir:
        run = runs_mod.RunDir(Path(args.run_dir))
        if not (run.path / "config.json").is_file():
            run.path.mkdir(parents=True, exist_ok=True)
            config.save(run.path / "config.json")
    else:
        run = runs_mod.RunDir.create(config)
    if not args.json:
        print(f"run {run.path}", file=sys.stderr)
    try:
        card = train(config, run, progress=None if args.quiet else TerminalProgress())
    except Cancelled:
        print("cancelled: the run was asked to stop; nothing was saved", file=sys.stderr)
        return 3
    summary = {"name": card["name"], "model": card["kind"], "test_accuracy": card["test_accuracy"],
               "test_loss": card["test_loss"], "train_seconds": card["train_seconds"],
               "epochs": card["epochs_trained"], "params": card["params"], "run_dir": str(run.path)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"saved model '{card['name']}': test accuracy {card['test_accuracy']:.4f}, "
              f"loss {card['test_loss']:.4f}, {card['train_seconds']:.1f}s training, {card['params']:,} params")
    return 0


def cmd_evaluate(args) -> int:
    if args.images:
        return _evaluate_images(args)
    from .data import load_splits
    from .evaluate import evaluate_model

    model = store.load(args.model)
    splits = load_splits()
    t0 = time.time()
    report = evaluate_model(model, splits.x_test, splits.y_test, mistakes_limit=20)
    report["seconds"] = time.time() - t0
    report["model"] = args.model
    if args.json:
        print(json.dumps(report))
        return 0
    lo, hi = report["ci95"]
    print(f"model '{args.model}' on the MNIST test set: accuracy {report['accuracy']:.4f} "
          f"({report['correct']}/{report['n']}, 95% CI {lo:.4f}-{hi:.4f}), loss {report['loss']:.4f}, "
          f"{report['seconds']:.2f}s")
    _print_confusion(report["confusion"])
    return 0


def _print_confusion(cm) -> None:
    print("confusion matrix (rows: true digit, columns: predicted)")
    print("     " + " ".join(f"{k:>5}" for k in range(len(cm))))
    for k, row in enumerate(cm):
        print(f"{k:>4} " + " ".join(f"{v:>5}" for v in row))


def _evaluate_images(args) -> int:
    from .handwriting import evaluate_images, format_report

    model = store.load(args.model)
    report = evaluate_images(model, args.images)
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def cmd_predict(args) -> int:
    from .handwriting import format_predictions, predict_files

    model = store.load(args.model)
    results = predict_files(model, args.images)
    print(json.dumps(results) if args.json else format_predictions(results))
    return 0 if all(r.get("error") is None for r in results) else 1


def cmd_models(args) -> int:
    cards = store.list_models()
    if args.json:
        print(json.dumps([{k: c.get(k) for k in ("name", "kind", "test_accuracy", "params", "train_seconds",
                                                  "created", "error")} for c in cards]))
        return 0
    if not cards:
        print("no saved models (train one with: python -m mnist_core train --model softmax)")
    for c in cards:
        if "error" in c:
            print(f"{c['name']:<24} unreadable: {c['error']}")
        else:
            print(f"{c['name']:<24} {c.get('kind', '?'):<14} acc {c.get('test_accuracy', 0):.4f}  "
                  f"{c.get('params', 0):>9,} params  {c.get('train_seconds', 0):>8.1f}s  {c.get('created', '')}")
    return 0


def cmd_runs(args) -> int:
    rows = [r.summary() for r in runs_mod.list_runs()]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no runs yet")
    for r in rows:
        acc = f"test acc {r['test_accuracy']:.4f}" if r.get("test_accuracy") is not None else ""
        why = f"  ({r['error']})" if r["state"] in ("failed", "interrupted") and r.get("error") else ""
        print(f"{r['id']:<36} {r['state']:<11} epoch {r.get('epoch') or 0}/{r.get('epochs')}  {acc}{why}")
    return 0


def cmd_stop(args) -> int:
    runs_mod.get_run(args.run_id).request_stop()
    print(f"asked run {args.run_id} to stop")
    return 0


def cmd_delete(args) -> int:
    store.delete(args.name)
    print(f"deleted model '{args.name}'")
    return 0


def cmd_ensemble(args) -> int:
    from .ensemble import create

    card = create(args.name, args.members)
    if args.json:
        print(json.dumps({k: card[k] for k in ("name", "members", "test_accuracy", "test_loss", "test_ci95", "params")}))
    else:
        lo, hi = card["test_ci95"]
        print(f"saved ensemble '{card['name']}' of {', '.join(card['members'])}: test accuracy "
              f"{card['test_accuracy']:.4f} (95% CI {lo:.4f}-{hi:.4f})")
    return 0


def cmd_promote(args) -> int:
    from .selection import RULE, promote

    result = promote(args.candidates, args.to)
    card = result["card"]
    if args.json:
        print(json.dumps({"chosen": result["chosen"], "target": args.to, "candidates": result["candidates"],
                          "test_accuracy": card.get("test_accuracy")}))
        return 0
    print(f"rule: {RULE}")
    for r in result["candidates"]:
        mark = "->" if r["name"] == result["chosen"] else "  "
        print(f"{mark} {r['name']:<24} val_accuracy {r['val_accuracy']:.4f}  val_loss {r['val_loss']:.5f}")
    print(f"copied '{result['chosen']}' to '{args.to}'; its test accuracy: {card.get('test_accuracy', float('nan')):.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description="MNIST Studio command line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a zoo model and save it to models/")
    p.add_argument("--model", choices=list(zoo.MODELS), help="model kind")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd", "rmsprop"])
    p.add_argument("--schedule", choices=["constant", "onecycle", "cosine", "exponential"])
    p.add_argument("--augment", action="store_true", help="random rotation, shift and zoom of training batches")
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--dropout", type=float)
    p.add_argument("--train-subset", type=int, help="train on this many training images")
    p.add_argument("--seed", type=int)
    p.add_argument("--name", help="model name in the store (default: KIND-TIMESTAMP)")
    p.add_argument("--run-dir", help="run directory (default: a new one under runs/)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a saved model on the MNIST test set or a folder/ZIP of images")
    p.add_argument("--model", default="default")
    p.add_argument("--images", help="directory or ZIP of real handwriting (folder per label or label_ prefix)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="read digits (or multi-digit numbers) from image files")
    p.add_argument("images", nargs="+")
    p.add_argument("--model", default="default")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("models", help="list saved models")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("runs", help="list training runs and their state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("stop", help="ask a running training run to stop")
    p.add_argument("run_id")
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser("delete", help="delete a saved model")
    p.add_argument("name")
    p.set_defaults(func=cmd_delete)
    p = sub.add_parser("ensemble", help="save an ensemble that averages saved models' probabilities")
    p.add_argument("name")
    p.add_argument("members", nargs="+", help="two or more saved model names")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ensemble)

    p = sub.add_parser("promote", help="copy the candidate with the best validation accuracy to another name")
    p.add_argument("candidates", nargs="+", help="saved model names (trained with a validation split)")
    p.add_argument("--to", default="default", help="destination name (default: default)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_promote)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, ConfigError, store.StoreError, MnistLoadError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
