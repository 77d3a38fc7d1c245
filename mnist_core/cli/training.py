"""train, runs, stop: training runs from the terminal."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from mnist_core.cli.common import UserError
from mnist_core.models import store, zoo
from mnist_core.training import queue, rundir
from mnist_core.training.config import OPTIMIZERS, SCHEDULES, TASKS, TrainConfig
from mnist_core.training.observers import Progress


class TerminalProgress(Progress):
    """A one-line progress bar on stderr (plain lines when not a terminal)."""

    def __init__(self, stream=None):
        stream = stream or sys.stderr  # at call time: the CLI points sys.stderr elsewhere while a command runs
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


def _config_from_args(args) -> TrainConfig:
    if args.run_dir and not args.model and os.path.isfile(os.path.join(args.run_dir, "config.json")):
        return TrainConfig.load(os.path.join(args.run_dir, "config.json"))
    if args.config:
        return _config_from_file(args)
    if not args.model:
        raise UserError(f"--model is required; choose one of {', '.join(zoo.MODELS)}")
    overrides = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dropout=args.dropout,
                     seed=args.seed, name=args.name, optimizer=args.optimizer, schedule=args.schedule,
                     train_subset=args.train_subset)
    config = TrainConfig.for_model(args.model, **overrides)
    config.task = args.task or "digits"
    config.keep_model = config.keep_model and not args.no_save
    config.augment = config.augment or args.augment
    config.batch_norm = config.batch_norm or args.batch_norm
    return config.validate()


def _config_from_file(args) -> TrainConfig:
    """A saved recipe (any model's config.json), with the flags given on top: reruns a run exactly."""
    from mnist_core.training.config import ConfigError

    try:
        data = json.loads(Path(args.config).read_text())
        config = TrainConfig.from_dict(data["config"] if isinstance(data.get("config"), dict) else data)
    except (FileNotFoundError, IsADirectoryError):
        raise UserError(f"--config: no file {args.config}; give a run's config.json or a model's card.json") from None
    except (ValueError, TypeError, AttributeError, ConfigError) as exc:
        raise UserError(f"--config {args.config} is not a TrainConfig JSON (a run's config.json or a model's "
                        f"card.json): {exc}") from None
    if args.model and args.model != config.model:
        raise UserError(f"--model {args.model} contradicts --config ({config.model}); leave one out")
    flags = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dropout=args.dropout, seed=args.seed,
                 name=args.name, optimizer=args.optimizer, schedule=args.schedule, train_subset=args.train_subset,
                 task=args.task)
    for key, value in flags.items():
        if value is not None:
            setattr(config, key, value)
    config.augment = config.augment or args.augment
    config.batch_norm = config.batch_norm or args.batch_norm
    return config.validate()


def _run_dir(args, config: TrainConfig) -> rundir.RunDir:
    """The run directory: given (the dashboard's queue spawned us: already admitted) or a new one in line."""
    queue.max_runs()  # an unusable MNIST_STUDIO_MAX_RUNS fails before anything is written
    if not args.run_dir:
        owner = {"admitted": time.time()} if args.now else {}
        if config.name and config.keep_model:  # the store's name rule: a refused run is never created
            store.check_new_name(config.name, replace=args.replace)
        return rundir.RunDir.create(config, pid=os.getpid(), **owner, **({"replace": True} if args.replace else {}))
    run = rundir.RunDir(Path(args.run_dir))
    if not (run.path / "config.json").is_file():
        run.path.mkdir(parents=True, exist_ok=True)
        config.save(run.path / "config.json")
    queue.sync(run.path.parent)  # the dispatcher that spawned us records our pid first
    with queue.locked(run.path.parent):
        run.write_status("queued", pid=os.getpid(), created=run.raw_status().get("created") or time.time(),
                         **({"admitted": time.time()} if args.now else {}))
    return run


def _say_place(place: int | None) -> None:
    if place:
        print(f"queued: number {place} in line ({queue.max_runs()} trainings at once; "
              f"set {queue.ENV} or use --now to start at once)", file=sys.stderr)


def cmd_train(args) -> int:
    config = _config_from_args(args)
    if args.seeds:  # several seeds of one recipe: a sweep (on Ray), every model kept
        if args.replace:
            raise UserError("--replace does not apply to --seeds: a seeds sweep saves only new names "
                            "(NAME-t00, ... and the --ensemble); choose a new --ensemble name")
        from mnist_core.cli.sweeps import train_seeds

        return train_seeds(args, config)
    run = _run_dir(args, config)
    if not args.json:
        print(f"run {run.path}", file=sys.stderr)
    try:
        if not args.now and not queue.wait_turn(run, on_wait=None if args.quiet else _say_place):
            print("cancelled while queued: nothing was trained", file=sys.stderr)
            return 3
        refused = _name_refused(config, run, args)
        if refused:
            return refused
        return _train_and_report(config, run, args)
    finally:
        queue.dispatch(run.path.parent)  # our place is free: start the next run in line


def _name_refused(config: TrainConfig, run: rundir.RunDir, args) -> int | None:
    """Check the name again once the run's turn has come (a model of that name may have been saved while it
    waited; the dashboard's runs are checked here first): a refusal ends the run as failed, with status 2."""
    if not config.name or not config.keep_model:
        return None
    try:
        store.check_new_name(config.name, replace=bool(args.replace or run.status().get("replace")))
    except store.StoreError as exc:
        run.finish("failed", str(exc))  # refused before it ran: no lifecycle, the same ending
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return None


def _train_and_report(config: TrainConfig, run: rundir.RunDir, args) -> int:
    from mnist_core.training.loop import train  # TensorFlow: only once admitted, not while in line
    from mnist_core.training.rundir import Cancelled

    try:
        card = train(config, run, progress=None if args.quiet else TerminalProgress())
    except Cancelled:
        print("cancelled: the run was asked to stop; nothing was saved", file=sys.stderr)
        return 3
    except OSError as exc:
        if exc.errno not in rundir.FULL_DISK_ERRNOS:
            raise
        print(f"error: {rundir.failure_reason(exc)}", file=sys.stderr)
        return 1
    summary = {"name": card["name"], "model": card["kind"], "task": card.get("task", "digits"), "test_accuracy": card["test_accuracy"],
               "test_loss": card["test_loss"], "train_seconds": card["train_seconds"],
               "epochs": card["epochs_trained"], "params": card["params"], "run_dir": str(run.path),
               "saved": config.keep_model}
    if args.json:
        print(json.dumps(summary))
    elif not config.keep_model:
        print(f"not saved (--no-save): test accuracy {card['test_accuracy']:.4f}; the curves stay in {run.path}")
    else:
        print(f"saved model '{card['name']}': test accuracy {card['test_accuracy']:.4f}, "
              f"loss {card['test_loss']:.4f}, {card['train_seconds']:.1f}s training, {card['params']:,} params")
    return 0


def cmd_runs(args) -> int:
    if args.run_id:
        return _show_run(args)
    rows = [r.summary() for r in rundir.list_runs()]
    places = queue.positions()
    for r in rows:
        r["queue_position"] = places.get(r["id"])
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no runs yet")
    for r in rows:
        acc = f"test acc {r['test_accuracy']:.4f}" if r.get("test_accuracy") is not None else ""
        why = f"  ({r['error']})" if r["state"] in ("failed", "interrupted", "broken") and r.get("error") else ""
        line = f"number {r['queue_position']} in line" if r["queue_position"] else \
            "starting" if r["state"] == "queued" else f"epoch {r.get('epoch') or 0}/{r.get('epochs')}"
        print(f"{r['id']:<36} {r['state']:<11} {line}  {acc}{why}")
    return 0


def _show_run(args) -> int:
    """One run as the dashboard sees it: its headline, or with --json its whole RunView."""
    from mnist_core.training import runview

    try:
        run = rundir.get_run(args.run_id)
    except FileNotFoundError as exc:
        raise UserError(f"{exc}; `runs` lists them") from None
    view = runview.run_view(run, queue.positions(run.path.parent).get(run.id))
    print(json.dumps(view.to_json()) if args.json else f"{view.id}  {view.headline}")
    return 0


def cmd_stop(args) -> int:
    run = rundir.get_run(args.run_id)
    run.request_stop(keep=args.keep)
    queue.dispatch(run.path.parent)  # a run still in line is cancelled at once
    if run.keep_requested():
        print(f"asked run {args.run_id} to stop at its next batch and save the model as it stands")
    else:
        print(f"asked run {args.run_id} to stop at its next batch; nothing will be saved")
    return 0


def register(sub) -> None:
    p = sub.add_parser("train", help="train a zoo model and save it to models/")
    p.add_argument("--model", choices=list(zoo.MODELS), help="model kind")
    p.add_argument("--config", help="a saved recipe to train again: a run's config.json or a model's "
                   "card.json (e.g. models/default/card.json); other flags override its values")
    p.add_argument("--task", choices=TASKS, help="what the model reads: digits (MNIST, default) or shapes "
                   "(generated hand-drawn shapes)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--schedule", choices=SCHEDULES)
    p.add_argument("--augment", action="store_true", help="random rotation, shift and zoom of training batches")
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--dropout", type=float)
    p.add_argument("--train-subset", type=int, help="train on this many training images")
    p.add_argument("--seed", type=int)
    p.add_argument("--name", help="model name in the store (default: KIND-TIMESTAMP); a saved name is refused "
                   "unless --replace, and the shipped default and shapes are written only by promote")
    p.add_argument("--replace", action="store_true", help="replace the saved model named by --name")
    p.add_argument("--no-save", action="store_true", help="an experiment: keep its curves and test figures in its "
                   "run directory, add no model to the store")
    p.add_argument("--run-dir", help="run directory (default: a new one under runs/)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--now", action="store_true",
                   help="start at once instead of waiting in the run queue (for scripts that manage their machines)")
    p.add_argument("--seeds", help="train one model per seed (0-7 or 1,5,9) as a sweep on Ray, every one kept")
    p.add_argument("--ensemble", help="with --seeds: also save the models' ensemble under this name")
    p.add_argument("--concurrent", type=int, default=1, help="with --seeds: trainings at once")
    p.add_argument("--address", help="with --seeds: Ray cluster (auto or HOST:PORT; default local)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", help="list training runs and their state (or one run's view)")
    p.add_argument("run_id", nargs="?", help="show this run as the dashboard does (with --json: every field)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("stop", help="ask a running training run to stop")
    p.add_argument("run_id")
    p.add_argument("--keep", action="store_true",
                   help="stop at the next batch and save the model as it stands (default: cancel, save nothing)")
    p.set_defaults(func=cmd_stop)
