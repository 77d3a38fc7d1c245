"""Training speed: time to 99% test accuracy for `fast`, the seed `cnn` recipe and every zoo model.

    python bench/train_speed.py [--models fast,cnn,...] [--seeds 5] [--other-seeds 1] [--reference-seeds N]
                                [--target 0.99] [--subset N] [--max-epochs N] [--variants [LABELS]] [--json]

Each (model, seed) trains in a fresh process, as a run started from the
dashboard does, so every figure includes what a user waits for: building the
model, tracing the train step, validation. After each epoch the worker tests
the network on the 10,000 test images (that time is not counted) and stops
at the first epoch at or above the target. Reported: how many seeds reached
it, median epochs and seconds to reach it, median and worst accuracy at the
end, and the ratio of the seed CNN recipe's median time to each model's.
--variants adds the ablation of the `fast` recipe (precision, crop, stem,
epochs, steps per execution, batch size, width, oneDNN, op determinism, XLA, label smoothing). Recipes run
interleaved, seed by seed, so a burst of load on a shared machine falls on all of them; --reference-seeds 0
leaves the slow `cnn` out of a screening run (ratios to `fast` only). The machine's load average is printed
beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _machine import load, machine  # noqa: E402
from _worker import run_fresh  # noqa: E402

REFERENCE = "cnn"
DEFAULT_MODELS = ("fast", "cnn", "softmax", "mlp", "lenet5", "numpy_softmax", "numpy_mlp", "best")
# The ablation: the public recipe, then one change at a time towards `fast`, then what else was tried.
# A row named "fast, ..." changes `fast` as it was until 2026-12-07 (space-to-depth stem, 24/32/256, no
# label smoothing: OLD_FAST), so its figures stay comparable with the README's earlier tables.
CONV_STEM = {"crop": 2, "stem": "conv"}
OLD_FAST = dict(label_smoothing=0.0, extra={"crop": 2, "stem": "s2d"})
VARIANTS = {
    "public (1 epoch, fp32)": dict(epochs=1, lr=1.2e-2, precision="float32", extra={}, steps_per_execution=1),
    "public, 2 epochs": dict(lr=1.2e-2, precision="float32", extra={}, steps_per_execution=1),
    "+ bfloat16": dict(lr=1.2e-2, extra={}, steps_per_execution=1),
    "+ crop": dict(steps_per_execution=1, extra=CONV_STEM),
    "+ steps_per_execution 4": dict(extra=CONV_STEM),
    "+ space-to-depth stem (fast until 2026-12-07)": dict(),
    "fast, stride-2 stem": dict(extra={"crop": 2, "stem": "stride2"}),
    "fast, conv2 with stride 2": dict(extra={"crop": 2, "stem": "s2d", "conv2_stride": True}),
    "fast, dense 128": dict(extra={"crop": 2, "stem": "s2d", "widths": [24, 32, 128]}),
    "fast in float32": dict(precision="float32"),
    "fast in float32, oneDNN off": dict(precision="float32", env={"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "fast, batch 512": dict(batch_size=512),
    "fast, 1.5 passes (2 epochs of 41,250 images)": dict(train_subset=41250),
    "fast, narrower (16/32/128)": dict(extra={"crop": 2, "stem": "s2d", "widths": [16, 32, 128]}),
    "fast, no op determinism": dict(extra={"crop": 2, "stem": "s2d", "deterministic": False}),
    "fast + XLA (no determinism)": dict(extra={"crop": 2, "stem": "s2d", "deterministic": False,
                                              "jit_compile": True}),
    # Issue 27: fewer steps need more from each one.
    "fast, label smoothing 0.1": dict(label_smoothing=0.1),
    "fast, 1.5 passes, label smoothing 0.1": dict(train_subset=41250, label_smoothing=0.1),
    "fast, 1 epoch, label smoothing 0.1": dict(epochs=1, label_smoothing=0.1),
    "fast, 1 epoch, lr 2e-2, label smoothing 0.1": dict(epochs=1, lr=2e-2, label_smoothing=0.1),
    "fast, 1.5 passes, label smoothing 0.2": dict(train_subset=41250, label_smoothing=0.2),
    "fast, label smoothing 0.1, narrower (16/32/128)": dict(
        label_smoothing=0.1, extra={"crop": 2, "stem": "s2d", "widths": [16, 32, 128]}),
    "fast, label smoothing 0.1, narrower, stride-2 stem": dict(
        label_smoothing=0.1, extra={"crop": 2, "stem": "stride2", "widths": [16, 32, 128]}),
    "fast, label smoothing 0.1, dense 128": dict(
        label_smoothing=0.1, extra={"crop": 2, "stem": "s2d", "widths": [24, 32, 128]}),
    "fast, label smoothing 0.1, stride-2 stem": dict(label_smoothing=0.1, extra={"crop": 2, "stem": "stride2"}),
    "fast, batch 512, lr 2e-2": dict(batch_size=512, lr=2e-2, steps_per_execution=2),
    "fast, batch 512, lr 2e-2, label smoothing 0.1": dict(batch_size=512, lr=2e-2, steps_per_execution=2,
                                                          label_smoothing=0.1),
}
VARIANTS = {label: {**OLD_FAST, **overrides} for label, overrides in VARIANTS.items()}
# Changes to `fast` as it was from 2026-12-07 05:00 to 13:00 (label smoothing 0.1, 16/32/128, stride-2 stem,
# no whitening: FAST_NOW): larger batches with the rate scaled by the square root or linearly, so each epoch
# makes fewer, cheaper-per-image steps; fewer passes.
FAST_NOW = {"crop": 2, "stem": "stride2", "widths": [16, 32, 128]}
VARIANTS.update({label: {"extra": FAST_NOW, **overrides} for label, overrides in {
    "fast now, batch 384, lr 1.5e-2": dict(batch_size=384, lr=1.5e-2, steps_per_execution=3),
    "fast now, batch 512, lr 1.7e-2": dict(batch_size=512, lr=1.7e-2, steps_per_execution=2),
    "fast now, batch 512, lr 2.4e-2": dict(batch_size=512, lr=2.4e-2, steps_per_execution=2),
    "fast now, 1.5 passes": dict(train_subset=41250),
}.items()})
# A whitened first layer (PCA filters of the 5x5 patches, +/- pairs: models/whitening.py), frozen or only
# initialised. Frozen is `fast` since 2026-12-07 13:00.
WHITENED = {**FAST_NOW, "whiten": "frozen"}
VARIANTS.update({label: {"extra": WHITENED, **overrides} for label, overrides in {
    "fast now, whitened frozen stem": {},
    "fast now, whitened stem, trained": dict(extra={**FAST_NOW, "whiten": "init"}),
    "fast now, whitened frozen stem, 1.5 passes": dict(train_subset=41250),
    "fast now, whitened frozen stem, 1 epoch": dict(epochs=1),
    "fast now, whitened frozen stem, 1 epoch of batch 128, lr 8.5e-3": dict(
        epochs=1, batch_size=128, lr=8.5e-3, steps_per_execution=8),
    "fast now, whitened frozen stem, 1.5 passes, lr 1.8e-2": dict(train_subset=41250, lr=1.8e-2),
    "fast now, whitened frozen stem, 16/24/128": dict(extra={**WHITENED, "widths": [16, 24, 128]}),
    "fast now, whitened frozen stem, 3-pixel crop": dict(extra={**WHITENED, "crop": 3}),
    "fast now, whitened frozen stem, 1 epoch of batch 128, lr 1.2e-2": dict(
        epochs=1, batch_size=128, steps_per_execution=8),
    "fast now, whitened frozen stem, 1 epoch of batch 64, lr 6e-3": dict(
        epochs=1, batch_size=64, lr=6e-3, steps_per_execution=16),
    "fast now, whitened frozen stem, batch 384, lr 1.5e-2": dict(batch_size=384, lr=1.5e-2, steps_per_execution=3),
    "fast now, whitened frozen stem, batch 512, lr 2.4e-2": dict(batch_size=512, lr=2.4e-2, steps_per_execution=2),
    # Fewer stem filters (whitened directions, each with both signs): conv2's cost is linear in them.
    "fast now, whitened frozen stem, 12 stem filters": dict(extra={**WHITENED, "widths": [12, 32, 128]}),
    "fast now, whitened frozen stem, 8 stem filters": dict(extra={**WHITENED, "widths": [8, 32, 128]}),
    "fast now, whitened frozen stem, 10 stem filters": dict(extra={**WHITENED, "widths": [10, 32, 128]}),
    "fast now, whitened frozen stem, 1.75 passes": dict(train_subset=48125),
}.items()})


def worker(spec: dict) -> dict:
    """Train one (model, seed) here; per-epoch training seconds and test accuracy."""
    import numpy as np

    from mnist_core.training import loop
    from mnist_core.training.config import TrainConfig
    from mnist_core.training.observers import Progress
    from mnist_core.data.mnist import load_splits

    splits = load_splits()
    overrides = {"train_subset": spec.get("subset"), **spec.get("overrides", {})}  # a variant's subset wins
    config = TrainConfig.for_model(spec["model"], seed=spec["seed"], **overrides)
    if spec.get("max_epochs"):
        config.epochs = min(config.epochs, spec["max_epochs"])
    target, epochs = spec["target"], []

    class Probe(Progress):
        hook_seconds = 0.0
        first_report = None  # seconds until the first step call returned: model, data, tracing, 1 call

        def update(self, epoch, epochs, step, steps, logs, eta):
            if self.first_report is None:
                self.first_report = logs["elapsed"]

        def epoch_end(self, epoch, logs):
            epochs.append({"epoch": epoch, "seconds": logs["elapsed"] - self.hook_seconds,
                           "val_accuracy": logs.get("val_accuracy")})

        def epoch_model(self, epoch, net):
            t0 = time.perf_counter()
            if hasattr(net, "layers"):
                probs = np.concatenate([np.asarray(net(splits.x_test[i:i + 2000], training=False), np.float32)
                                        for i in range(0, len(splits.x_test), 2000)])
            else:
                probs = net.predict_proba(splits.x_test)
            epochs[-1]["test_accuracy"] = float((probs.argmax(1) == splits.y_test).mean())
            self.hook_seconds += time.perf_counter() - t0
            return epochs[-1]["test_accuracy"] >= target

    probe = Probe()
    card = loop.train(config.validate(), splits=splits, progress=probe, save=False)
    return {"model": spec["model"], "label": spec.get("label", spec["model"]), "seed": spec["seed"],
            "epochs": epochs, "setup_seconds": probe.first_report, "final_test_accuracy": card["test_accuracy"], "planned_epochs": config.epochs}


def run_worker(spec: dict) -> dict:
    overrides = dict(spec.get("overrides", {}))
    env = {**os.environ, **overrides.pop("env", {})}  # e.g. oneDNN off: read when TensorFlow starts
    return run_fresh(__file__, {**spec, "overrides": overrides}, env)


def summarize(label: str, results: list[dict], target: float) -> dict:
    reached = [next((e for e in r["epochs"] if e.get("test_accuracy", 0) >= target), None) for r in results]
    hits = [e for e in reached if e is not None]
    finals = [r["epochs"][-1]["test_accuracy"] for r in results]
    per_epoch = [(r["epochs"][-1]["seconds"] - r["setup_seconds"]) / len(r["epochs"]) for r in results]
    return {"label": label, "seeds": len(results), "reached": len(hits),
            "epochs_to_target": statistics.median(e["epoch"] for e in hits) if hits else None,
            "seconds_to_target": statistics.median(e["seconds"] for e in hits) if len(hits) == len(results) else None,
            "median_accuracy": statistics.median(finals), "worst_accuracy": min(finals),
            "seconds_per_epoch": statistics.median(per_epoch),
            "setup_seconds": statistics.median(r["setup_seconds"] for r in results), "runs": results}


def print_table(rows: list[dict], target: float, reference: dict | None) -> None:
    ref = reference["seconds_to_target"] if reference else None
    fast = next((r["seconds_to_target"] for r in rows if r["label"] == "fast"), None)
    print(f"{'model / recipe':<30} {'seeds':>5} {'>=' + format(target, '.1%'):>7} {'epochs':>6} "
          f"{'time to target':>14} {'vs cnn':>7} {'vs fast':>7} {'median acc':>10} {'worst acc':>9} {'s/epoch':>8} "
          f"{'setup':>6}")
    for r in rows:
        t = r["seconds_to_target"]
        ratio = f"{ref / t:6.1f}x" if ref and t else "      -"
        vs_fast = f"{fast / t:6.2f}x" if fast and t else "      -"
        print(f"{r['label']:<30} {r['seeds']:>5} {r['reached']:>5}/{r['seeds']:<1} "
              f"{r['epochs_to_target'] if r['epochs_to_target'] is not None else '-':>6} "
              f"{format(t, '.2f') + ' s' if t else 'not reached':>14} {ratio:>7} {vs_fast:>7} "
              f"{r['median_accuracy']:>10.2%} {r['worst_accuracy']:>9.2%} {r['seconds_per_epoch']:>8.2f} "
              f"{r['setup_seconds']:>6.2f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(DEFAULT_MODELS))
    p.add_argument("--seeds", type=int, default=5, help="seeds for fast and the reference cnn")
    p.add_argument("--other-seeds", type=int, default=1, help="seeds for every other model")
    p.add_argument("--reference-seeds", type=int,
                   help="seeds for the reference cnn (default: --seeds; 0: leave it out, ratios to `fast` only)")
    p.add_argument("--target", type=float, default=0.99)
    p.add_argument("--subset", type=int, help="train on this many images (tiny smoke runs)")
    p.add_argument("--max-epochs", type=int, help="cap every recipe's epochs")
    p.add_argument("--variants", nargs="?", const="all", default="",
                   help="also run the ablation of the fast recipe (all, or row labels separated by ';')")
    p.add_argument("--json", action="store_true")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    from mnist_core.models import zoo

    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in zoo.MODELS]
    if unknown:
        print(f"error: unknown models {unknown}; choose from {', '.join(zoo.MODELS)}", file=sys.stderr)
        return 2
    if args.reference_seeds == 0:  # a screening run: compare with `fast` measured in the same run
        models = [m for m in models if m != REFERENCE]
    elif REFERENCE not in models:
        models.append(REFERENCE)  # every ratio needs the reference measured in this same run
    load_before, started = load(), time.strftime("%Y-%m-%d %H:%M")
    base = {"target": args.target, "subset": args.subset, "max_epochs": args.max_epochs}
    jobs = [(m, {}) for m in models]
    if args.variants:
        chosen = list(VARIANTS) if args.variants == "all" else [v.strip() for v in args.variants.split(";") if v.strip()]
        unknown = [v for v in chosen if v not in VARIANTS]
        if unknown:
            print(f"error: unknown variants {unknown}; choose from {', '.join(VARIANTS)}", file=sys.stderr)
            return 2
        jobs += [(label, {"overrides": VARIANTS[label], "model": "fast"}) for label in chosen]
    def n_seeds(label, model):
        if label == REFERENCE:
            return args.reference_seeds or args.seeds
        return args.seeds if model == "fast" else args.other_seeds

    # Interleaved, seed by seed: a burst of load on the shared machine falls on every recipe, not on one row.
    results = {label: [] for label, _ in jobs}
    for s in range(max(n_seeds(label, extra.get("model", label)) for label, extra in jobs)):
        for label, extra in jobs:
            model = extra.get("model", label)
            if s < n_seeds(label, model):
                results[label].append(run_worker({**base, "model": model, "label": label, "seed": s, **extra}))
        print(f"  done: seed {s} ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f})", file=sys.stderr)
    rows = [summarize(label, results[label], args.target) for label, _ in jobs]
    load_after = load()
    reference = next((r for r in rows if r["label"] == REFERENCE), None)
    if args.json:
        print(json.dumps({"machine": machine(), "date": started, "load": [load_before, load_after], "rows": rows}))
        return 0
    print(f"training speed, {started}: {machine()}")
    print(f"load average (1/5/15 min) before {load_before}, after {load_after}"
          + (f"; training subset {args.subset} images" if args.subset else ""))
    print_table(rows, args.target, reference)
    print("times: medians over seeds, training only (build + trace + epochs + validation, not the test passes); "
          "'vs cnn': the seed CNN recipe's median time to target divided by this row's ('vs fast': `fast`'s); 'setup': seconds until the "
          "first step call returned (compiling, the data pipeline, tracing), included in the times, not in s/epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
