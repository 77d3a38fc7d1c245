"""export, tensorboard: models and runs out of the studio."""

from __future__ import annotations

import json

from mnist_core.cli.common import UserError


def cmd_export(args) -> int:
    from mnist_core.models.export import export

    report = export(args.name, args.format, args.out)
    if args.json:
        print(json.dumps(report))
    else:
        verdict = "same class on every image" if report["all_same_class"] else \
            f"DIFFERENT class on {report['images'] - report['same_class']} images"
        print(f"exported '{report['model']}' as {args.format} to {report['path']} ({report['bytes']:,} bytes, "
              f"{report['seconds']:.1f}s)")
        print(f"checked with {report['runtime']} on {report['images']} MNIST test images: {verdict}; "
              f"largest probability difference {report['max_prob_diff']:.2e}")
        if not report["recorded"]:
            print(f"note: '{report['model']}' was replaced during the export; its card was left as it is")
    return 0 if report["all_same_class"] else 1


def cmd_tensorboard(args) -> int:
    from mnist_core.training.tensorboard import TensorBoardError, write_runs

    try:
        written = write_runs(args.runs or None, args.logdir)
    except TensorBoardError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(written))
        return 0
    if not written:
        print("no runs to write (start one with: python -m mnist_core train --model softmax)")
    for w in written:
        trials = f", {w['trials']} trials as HParams" if w["trials"] else ""
        print(f"{w['run']}: {w['epochs']} epochs, {w['batch_points']} batch points{trials} -> {w['path']}")
    if written:
        logdir = args.logdir or "runs"
        print(f"view them with: tensorboard --logdir {logdir}")
    return 0


def register(sub) -> None:
    from mnist_core.models.export import FORMATS

    p = sub.add_parser("export", help="export a saved model (ONNX, LiteRT, SavedModel, .keras), checked on the spot",
                       description="Writes the model, runs the exported file through its own runtime on 1,000 MNIST "
                                   "test images, compares with the saved model and records the figures in its card.")
    p.add_argument("name", help="saved model name (an ensemble exports as one averaging graph)")
    p.add_argument("--format", required=True, choices=list(FORMATS))
    p.add_argument("--out", help="destination (default: NAME.onnx, NAME.tflite, NAME_savedmodel/ or NAME.keras)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("tensorboard", help="write TensorBoard event files from run directories",
                       description="Batch and epoch scalars, the learning rate, the config as text, and a sweep's "
                                   "trials as HParams. By default into runs/<id>/tensorboard/, so "
                                   "`tensorboard --logdir runs` shows every run.")
    p.add_argument("runs", nargs="*", metavar="RUN_ID", help="run ids (default: every run)")
    p.add_argument("--logdir", help="write into LOGDIR/<id>/ instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tensorboard)
