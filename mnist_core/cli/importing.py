"""import: bring a model file from elsewhere into the store (models/importing.py)."""

from __future__ import annotations

import argparse
import json

from mnist_core.models import convention


def cmd_import(args) -> int:
    from mnist_core.models import importing

    card = importing.import_model(args.file, args.name, replace=args.replace, task=args.task, input=args.input,
                                  scale=args.scale, invert=args.invert, outputs=args.outputs,
                                  description=args.description)
    detection = card["detection"]
    if args.json:
        print(json.dumps({"name": card["name"], "backend": card["backend"], "source": card["source"],
                          "convention": card["convention"], "chosen_by": detection["chosen_by"],
                          "margin": detection["margin"], "probe": detection["probe"],
                          "candidates": detection["candidates"], "warnings": detection["warnings"],
                          "test_accuracy": card["test_accuracy"], "test_ci95": card["test_ci95"],
                          "params": card["params"], "inference_ms": card["inference_ms"]}))
        return 0
    src = card["source"]
    print(f"imported '{card['name']}' from {src['file']} ({src['format']}, {src['bytes'] / 1024:,.0f} KB, "
          f"sha256 {src['sha256'][:12]}...): backend {card['backend']}, {card['params']:,} parameters")
    for part, found, how in importing.summary(card):
        print(f"  {part:<9} {found:<44} {how}")
    rows = importing.candidate_rows(detection)
    if len(rows) > 1:
        print(f"  candidates scored on {detection['probe']}:")
        for r in rows:
            polarity = "inverted" if r["inverted"] else "as MNIST"
            print(f"  {'->' if r['chosen'] else '  '}{r['input']:<8} {r['scale']:<11} {polarity:<9} "
                  f"accuracy {r['accuracy']:.1%}  log loss "
                  + (f"{r['log loss']:.3f}" if r["log loss"] is not None else "- (NaN scores)"))
    for note in card.get("import_notes") or []:
        print(f"  note: {note}")
    for warning in detection["warnings"]:
        print(f"  warning: {warning}")
    lo, hi = card["test_ci95"]
    print(f"test accuracy {card['test_accuracy']:.2%} (95% CI {lo:.2%}-{hi:.2%}), measured now on the test set")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import", help="import a model file (.keras, .h5, .onnx, .tflite, SavedModel folder or .zip) "
                       "into the store; its input convention is detected and its test accuracy measured")
    p.add_argument("file", help="the model file, or a SavedModel folder")
    p.add_argument("--name", required=True, help="the name to save it under")
    p.add_argument("--input", choices=list(convention.LAYOUTS),
                   help="the input layout (default: from the model's input shape)")
    p.add_argument("--scale", choices=list(convention.SCALES),
                   help="the pixel scale it was trained on (default: detected on validation images)")
    p.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                   help="dark digits on white (--no-invert: white on black, as MNIST; default: detected)")
    p.add_argument("--outputs", choices=list(convention.OUTPUTS),
                   help="what it returns (default: probabilities when every row sums to 1, else logits)")
    p.add_argument("--task", default="digits", help="the task its classes belong to (digits or shapes)")
    p.add_argument("--description", help="a line for the model card")
    p.add_argument("--replace", action="store_true", help="replace a saved model of that name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)
