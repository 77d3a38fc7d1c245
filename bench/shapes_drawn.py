"""How well a shapes model reads shapes drawn with a mouse by a hand that is not the training generator's.

    python bench/shapes_drawn.py [--model shapes] [--per-class 100] [--pen 10-30] [--json]

Each drawing comes from bench/mouse_shapes.py (its own outlines and jitter,
seeds 0..per-class-1 of each class, the same drawings the browser test draws
first), is rendered the way the Draw page's canvas renders mouse strokes
(round caps and joins, anti-aliased, white on a transparent layer, 640x280)
with a pen width drawn from --pen (the page's default is 18), and is read
exactly as the Draw page reads it in Shapes mode (reading.read_image: the
whole drawing as one shape, then the "not a shape" check). A drawing counts
as read right only when the answer is its class: "not a shape" is wrong.
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

import numpy as np  # noqa: E402

from _machine import load, machine  # noqa: E402
from mouse_shapes import CLASSES, mouse_strokes, render  # noqa: E402


def pen_width(cls: str, seed: int, low: float, high: float) -> float:
    """The pen of drawing `seed` of `cls`: its own seed, so the strokes do not change with --pen."""
    return float(np.random.default_rng([777, CLASSES.index(cls), seed]).uniform(low, high))


def measure(model, per_class: int, low: float, high: float, progress=None) -> dict:
    """Read per_class drawings of each class; {accuracy, ci95, n, correct, rejected, per_class, confusion, wrong}."""
    from mnist_core.analysis.evaluate import wilson_interval
    from mnist_core.handwriting import reading

    names = list(model.class_names)
    k = len(names)
    cm = np.zeros((k, k + 1), int)  # the last column: "not a shape"
    wrong, by_pen = [], {}
    for cls in CLASSES:
        for seed in range(per_class):
            pen = pen_width(cls, seed, low, high)
            result = reading.read_image(model, render(mouse_strokes(cls, seed), pen))
            said = result.number  # the shape's name, or None: not a shape (or nothing found)
            cm[names.index(cls), names.index(said) if said in names else k] += 1
            bucket = by_pen.setdefault(f"{int(pen // 5 * 5)}-{int(pen // 5 * 5) + 5}", [0, 0])
            bucket[0] += said == cls
            bucket[1] += 1
            if said != cls:
                wrong.append({"class": cls, "seed": seed, "pen": round(pen, 1), "read": said or result.reason})
        if progress:
            progress(cls)
    n, correct = int(cm.sum()), int(np.trace(cm))
    per = {names[i]: round(float(cm[i, i] / cm[i].sum()), 4) for i in range(k) if cm[i].sum()}
    return {"accuracy": correct / n, "ci95": [round(v, 4) for v in wilson_interval(correct, n)], "n": n,
            "correct": correct, "rejected": int(cm[:, k].sum()), "per_class": per,
            "by_pen": {p: round(c / t, 4) for p, (c, t) in sorted(by_pen.items(), key=lambda i: int(i[0].split("-")[0]))},
            "confusion": cm.tolist(), "columns": names + ["not a shape"], "wrong": wrong}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--pen", default="10-30", help="pen widths in pixels, LOW-HIGH (uniform) or one width")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    low, _, high = args.pen.partition("-")
    low, high = float(low), float(high or low)

    from mnist_core.models import loading

    model = loading.load(args.model)
    t0 = time.time()
    say = (lambda cls: None) if args.json else (lambda cls: print(f"  {cls} done", file=sys.stderr))
    result = measure(model, args.per_class, low, high, say)
    result.update(model=args.model, per_class_drawings=args.per_class, pen=[low, high],
                  seconds=round(time.time() - t0, 1), machine=machine(), load=load(),
                  date=time.strftime("%Y-%m-%d"))
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    lo, hi = result["ci95"]
    print(f"model {args.model}: {result['correct']}/{result['n']} mouse-drawn shapes read right = "
          f"{result['accuracy']:.2%} (95% CI {lo:.2%}-{hi:.2%}); {result['rejected']} answered 'not a shape'; "
          f"pen {low:g}-{high:g} px; {result['seconds']} s")
    print("per class: " + ", ".join(f"{c} {a:.0%}" for c, a in result["per_class"].items()))
    if len(result["by_pen"]) > 1:
        print("by pen width (px): " + ", ".join(f"{p} {a:.0%}" for p, a in result["by_pen"].items()))
    width = max(len(c) for c in result["columns"])
    print("confusion (rows: drawn, columns: read)")
    print(" " * width + "".join(f"{c[:5]:>6}" for c in result["columns"]))
    for name, row in zip(model.class_names, result["confusion"]):
        print(f"{name:>{width}}" + "".join(f"{v:>6}" for v in row))
    short = {w["read"]: w["read"].split(" (")[0] for w in result["wrong"]}  # "not a shape", without its reason
    print("misread: " + "; ".join(f"{w['class']} #{w['seed']} (pen {w['pen']:g}) as {short[w['read']]}"
                                  for w in result["wrong"][:40]))
    print(f"{result['date']} · {result['machine']} · load {result['load']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
