"""Accuracy of saved models on the MNIST test set (with 95% intervals) and on real handwriting.

    python bench/accuracy.py [--models default,...] [--images DIR|none] [--test-n 10000] [--json]

For each model: test accuracy, errors out of N, the Wilson 95% confidence
interval (mnist_core.evaluate.wilson_interval), for an ensemble its members'
accuracies, and the accuracy on the photos of real handwriting in the shared
sample (never used for training or for choosing anything).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _machine import load, machine  # noqa: E402

SAMPLE = REPO.parent / "shared" / "data" / "handwriting_sample"


def measure(name: str, splits, images: Path | None) -> dict:
    from mnist_core.analysis import evaluate
    from mnist_core.models import loading

    model = loading.load(name)
    report = evaluate.evaluate_model(model, splits.x_test, splits.y_test, mistakes_limit=0)
    row = {"model": name, "kind": model.card.get("kind", model.backend), "accuracy": report["accuracy"],
           "errors": report["n"] - report["correct"], "n": report["n"], "ci95": list(report["ci95"]),
           "members": model.card.get("member_test_accuracy")}
    if images is not None:
        from mnist_core.handwriting.reading import evaluate_images

        hw = evaluate_images(model, str(images))
        row["handwriting"] = {"accuracy": hw.accuracy, "correct": hw.correct, "n": hw.n, "skipped": len(hw.skipped)}
    return row


def print_table(rows: list[dict]) -> None:
    print(f"{'model':<18} {'kind':<9} {'test acc':>8} {'errors':>10} {'95% CI':>17} {'handwriting':>14}  members")
    for r in rows:
        lo, hi = r["ci95"]
        hw = r.get("handwriting")
        hw_text = f"{hw['accuracy']:.0%} ({hw['correct']}/{hw['n']})" if hw and hw["accuracy"] is not None else "-"
        members = ", ".join(f"{k} {v:.2%}" for k, v in (r["members"] or {}).items() if v is not None)
        print(f"{r['model']:<18} {r['kind']:<9} {r['accuracy']:>8.2%} {r['errors']:>4}/{r['n']:<5} "
              f"{lo:>8.2%}-{hi:.2%} {hw_text:>14}  {members}")


def _digits_models(names: list[str]) -> list[str]:
    """This bench scores on MNIST and real digits: a shapes model is skipped with a note saying where it is measured."""
    from mnist_core import tasks
    from mnist_core.models import store

    kept = []
    for name in names:
        try:
            task = tasks.of_card(store.read_card(name))
        except store.StoreError:
            task = "digits"  # measure() reports the store's own error for it
        if task == "digits":
            kept.append(name)
        else:
            print(f"note: skipping '{name}', a {task} model (bench/shapes_drawn.py and the Models page measure it)",
                  file=sys.stderr)
    return kept


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", help="comma-separated saved models (default: every digits model in the store)")
    p.add_argument("--images", default=str(SAMPLE), help="labelled real handwriting (folder or ZIP); 'none' skips it")
    p.add_argument("--test-n", type=int, help="use only the first N test images (smoke runs)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from mnist_core.models import store
    from mnist_core.data.mnist import Splits, load_splits

    names = _digits_models(args.models.split(",") if args.models else store.list_names())
    if not names:
        print("error: the model store is empty", file=sys.stderr)
        return 2
    images = None if args.images == "none" else Path(args.images)
    if images is not None and not images.exists():
        print(f"note: {images} not found; skipping real handwriting", file=sys.stderr)
        images = None
    splits = load_splits()
    if args.test_n:
        splits = Splits(splits.x_train, splits.y_train, splits.x_val, splits.y_val, splits.x_test[:args.test_n],
                        splits.y_test[:args.test_n], splits.sha256)
    started, rows = time.strftime("%Y-%m-%d %H:%M"), []
    for name in names:
        try:
            rows.append(measure(name, splits, images))
        except store.StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"machine": machine(), "date": started, "load": load(), "rows": rows}))
        return 0
    print(f"accuracy, {started}: {machine()} (load {load()})")
    print_table(rows)
    print(f"test: the {len(splits.y_test):,} MNIST test images; 95% CI: Wilson score interval; handwriting: "
          f"{images if images else 'skipped'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
