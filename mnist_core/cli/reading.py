"""evaluate, predict: models on the MNIST test set and on real handwriting."""

from __future__ import annotations

import json
import sys
import time

from mnist_core.cli.common import UserError
from mnist_core.models import loading


def cmd_evaluate(args) -> int:
    if args.ray is not None and not args.images:
        raise UserError("--ray decodes a folder or ZIP of images on Ray: give it with --images DIR_OR_ZIP")
    if args.images and args.tta:
        raise UserError("--tta is for the MNIST (or shapes) test set; leave out --images")
    if args.images:
        return _evaluate_images(args)
    from mnist_core.analysis import testset
    from mnist_core.analysis.evaluate import evaluate_model, format_confusion

    model = loading.load(args.model)
    if args.tta:
        from mnist_core.models.tta import ShiftAveraged

        model = ShiftAveraged(model)
    held = testset.load(model.task)  # a shapes model on the generated test split, never on MNIST
    t0 = time.time()
    report = evaluate_model(model, held.x, held.y, mistakes_limit=None if args.report else 20)
    report.update(seconds=time.time() - t0, model=args.model, task=held.task, test_set=held.description,
                  tta=bool(args.tta))
    if held.task.named:
        report["class_names"] = list(held.class_names)
    _write_report(args, report, held.x)
    if args.json:
        print(json.dumps(report))
        return 0
    lo, hi = report["ci95"]
    where = held.description if held.task.named else "MNIST test set"
    print(f"model '{model.name if args.tta else args.model}' on the {where}: "
          f"accuracy {report['accuracy']:.4f} ({report['correct']}/{report['n']}, 95% CI {lo:.4f}-{hi:.4f}), "
          f"loss {report['loss']:.4f}, {report['seconds']:.2f}s")
    print(format_confusion(report["confusion"]))
    if held.task.named:
        print("classes: " + ", ".join(f"{k} {n}" for k, n in enumerate(held.class_names)))
    return 0


def _evaluate_images(args) -> int:
    from mnist_core.handwriting.reading import evaluate_images, format_report

    model = loading.load(args.model)
    on_ray = (args.ray or True) if args.ray is not None else None
    report = evaluate_images(model, args.images, keep_inputs=bool(args.report), on_ray=on_ray)
    _write_report(args, report.to_json(), report.inputs)
    print(json.dumps(report.to_json()) if args.json else format_report(report))
    return 0


def _write_report(args, report: dict, inputs) -> None:
    """--report PATH: the self-contained HTML report (analysis/report.py); its path goes to stderr."""
    if not args.report:
        return
    from mnist_core.analysis import report as html_report

    try:
        path = html_report.write(html_report.batch_html(report, inputs), args.report)
    except (ValueError, OSError) as exc:
        raise UserError(f"could not write the report: {exc}") from None
    print(f"report written to {path}", file=sys.stderr)


def cmd_predict(args) -> int:
    from mnist_core.handwriting.reading import format_predictions, predict_files

    model = loading.load(args.model)
    results = predict_files(model, args.images)
    print(json.dumps([r.to_json() for r in results]) if args.json else format_predictions(results))
    return 0 if all(r.error is None for r in results) else 1



def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a saved model on the MNIST test set or a folder/ZIP of images")
    p.add_argument("--model", default="default")
    p.add_argument("--images", help="directory or ZIP of real handwriting (folder per label or label_ prefix)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report (charts, every mistake)")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation: average each image with its four one-pixel shifts (5x the work)")
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="with --images: decode and preprocess on Ray, at ADDRESS (HOST:PORT or auto), "
                        "else $MNIST_STUDIO_RAY_ADDRESS, else a local Ray (same results as the local worker pool)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="read digits (or multi-digit numbers) from image files")
    p.add_argument("images", nargs="+")
    p.add_argument("--model", default="default")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)
