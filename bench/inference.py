"""Inference speed per saved model: one image at a time (the canvas) and the 10,000 test images.

    python bench/inference.py [--models default,...] [--n 300] [--repeats 3] [--batch-n 10000] [--tta] [--json]

Single image: LoadedModel.predict_proba on one test image after warm-up, N
different images, p50 and p95 in milliseconds; for Keras models also the
eager call net(x, training=False) and model.predict, to show what the traced
function saves. Batch: predict_proba on the test images, median of the
repeats, images per second and accuracy. --tta adds a row per model read
with test-time augmentation (models/tta.py: five shifted copies in one call).
Medians; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import os  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _machine import load, machine  # noqa: E402


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def single(call, images, warmup: int = 5) -> tuple[float, float]:
    for x in images[:warmup]:
        call(x)
    times = []
    for x in images:
        t0 = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - t0)
    return percentiles(times)


def measure(name: str, splits, n: int, repeats: int, batch_n: int, baselines: bool, tta: bool = False) -> dict:
    import numpy as np

    from mnist_core.models import loading
    from mnist_core.models.tta import ShiftAveraged

    t0 = time.perf_counter()
    model = loading.load(name)
    if tta:
        model, baselines = ShiftAveraged(model), False
    row = {"model": model.name, "kind": model.card.get("kind", model.backend), "load_s": time.perf_counter() - t0,
           "params": model.count_params()}
    images = [splits.x_test[i:i + 1] for i in range(n)]
    row["p50_ms"], row["p95_ms"] = single(model.predict_proba, images)
    if baselines and model.backend == "keras":
        row["eager_p50_ms"] = single(lambda x: np.asarray(model.net(x, training=False)), images)[0]
        row["predict_p50_ms"] = single(lambda x: model.net.predict(x, verbose=0), images[:max(20, n // 10)])[0]
    x, y = splits.x_test[:batch_n], splits.y_test[:batch_n]
    model.predict_proba(x[:2048])  # warm-up at the batch size used below
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        probs = model.predict_proba(x)
        seconds.append(time.perf_counter() - t0)
    row["batch_s"] = statistics.median(seconds)
    row["images_per_s"] = len(x) / row["batch_s"]
    row["accuracy"] = float((probs.argmax(1) == y).mean())
    return row


def print_table(rows: list[dict], batch_n: int) -> None:
    print(f"{'model':<22} {'kind':<10} {'params':>9} {'load s':>7} {'p50 ms':>7} {'p95 ms':>7} {'eager p50':>9} "
          f"{'predict p50':>11} {f'{batch_n:,} imgs s':>13} {'images/s':>9} {'accuracy':>8}")
    for r in rows:
        eager = f"{r['eager_p50_ms']:.2f}" if "eager_p50_ms" in r else "-"
        pred = f"{r['predict_p50_ms']:.1f}" if "predict_p50_ms" in r else "-"
        print(f"{r['model']:<22} {r['kind']:<10} {r['params']:>9,} {r['load_s']:>7.2f} {r['p50_ms']:>7.2f} "
              f"{r['p95_ms']:>7.2f} {eager:>9} {pred:>11} {r['batch_s']:>13.2f} {r['images_per_s']:>9,.0f} "
              f"{r['accuracy']:>8.2%}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", help="comma-separated saved models (default: every model in the store)")
    p.add_argument("--n", type=int, default=300, help="single-image predictions per model")
    p.add_argument("--repeats", type=int, default=3, help="passes over the batch")
    p.add_argument("--batch-n", type=int, default=10000, help="test images in the batch pass")
    p.add_argument("--no-baselines", action="store_true", help="skip the eager and model.predict timings")
    p.add_argument("--tta", action="store_true", help="also time each model with test-time augmentation")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from mnist_core.models import store
    from mnist_core.data.mnist import load_splits

    names = args.models.split(",") if args.models else store.list_names()
    if not names:
        print("error: the model store is empty", file=sys.stderr)
        return 2
    splits = load_splits()
    import keras  # noqa: F401 - imported once here, so 'load s' is the model file alone

    load_before, started = load(), time.strftime("%Y-%m-%d %H:%M")
    rows = []
    for name in names:
        try:
            rows.append(measure(name, splits, args.n, args.repeats, args.batch_n, not args.no_baselines))
            if args.tta:
                rows.append(measure(name, splits, args.n, args.repeats, args.batch_n, False, tta=True))
        except store.StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"machine": machine(), "date": started, "load": [load_before, load()], "rows": rows}))
        return 0
    print(f"inference, {started}: {machine()}")
    print(f"load average (1/5/15 min) before {load_before}, after {load()}")
    print_table(rows, min(args.batch_n, len(splits.x_test)))
    print("p50/p95: LoadedModel.predict_proba on one image, after warm-up; eager: net(x, training=False); "
          "predict: keras Model.predict; batch: predict_proba on the test images, median of repeats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
