"""How long `fit` keeps a user waiting after its last epoch: from on_train_end to fit's return.

    python bench/fit_return.py [--runs 8] [--model fast] [--subset N] [--epochs N] [--compare] [--json]

Each run trains in a fresh process, as a run from the dashboard does. --compare interleaves runs with
tf.data's autotuning turned back on (the loop turns it off: its optimiser thread had to finish before
fit could free the data iterator, and 1 run in 3 waited 0.8-2 s for it). Reported per setting: the median
and the longest wait, and how many runs waited more than 0.1 s. The machine's load is printed beside them.
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

from _worker import run_fresh  # noqa: E402

SLOW = 0.1  # seconds: a wait a user could notice


def worker(spec: dict) -> dict:
    """Train once here; seconds between on_train_end and fit's return."""
    import keras

    from mnist_core.training import loop
    from mnist_core.training.config import TrainConfig

    marks = {}
    fit = keras.Model.fit

    class End(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            marks["end"] = time.perf_counter()

    def timed_fit(self, *args, **kwargs):
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), End()]  # the last to hear of the end
        history = fit(self, *args, **kwargs)
        marks["returned"] = time.perf_counter()
        return history

    keras.Model.fit = timed_fit
    if spec["autotune"]:
        make = loop._dataset

        def autotuned(*args):
            import tensorflow as tf

            options = tf.data.Options()
            options.autotune.enabled = True
            return make(*args).with_options(options)

        loop._dataset = autotuned
    overrides = {k: v for k, v in (("train_subset", spec["subset"]), ("epochs", spec["epochs"])) if v}
    config = TrainConfig.for_model(spec["model"], seed=spec["seed"], **overrides)
    loop.train(config.validate(), save=False)
    return {"wait": marks["returned"] - marks["end"]}


def run_worker(spec: dict) -> dict:
    return run_fresh(__file__, spec)


def summarize(label: str, waits: list[float]) -> dict:
    return {"label": label, "runs": len(waits), "median_s": statistics.median(waits), "max_s": max(waits),
            "slow_runs": sum(w > SLOW for w in waits), "waits": waits}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--model", default="fast")
    parser.add_argument("--subset", type=int, default=None, help="training images (default: all 55,000)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the model's recipe")
    parser.add_argument("--compare", action="store_true", help="also runs with tf.data autotuning on, interleaved")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    from _machine import load, machine

    settings = [("as shipped (autotuning off)", False)] + ([("tf.data autotuning on", True)] if args.compare else [])
    started, load_before = time.strftime("%Y-%m-%d %H:%M"), load()
    waits = {label: [] for label, _ in settings}
    for seed in range(args.runs):
        for label, autotune in settings:  # interleaved: a burst of load falls on both
            spec = {"model": args.model, "seed": seed, "subset": args.subset, "epochs": args.epochs,
                    "autotune": autotune}
            waits[label].append(run_worker(spec)["wait"])
    rows = [summarize(label, waits[label]) for label, _ in settings]
    if args.json:
        print(json.dumps({"machine": machine(), "date": started, "load": [load_before, load()], "rows": rows}))
        return 0
    print(f"fit's return after the last epoch, {started}: {machine()}")
    print(f"model {args.model}, load average (1/5/15 min) before {load_before}, after {load()}")
    print(f"{'setting':<30} {'runs':>4} {'median':>8} {'longest':>8} {'over ' + str(SLOW) + ' s':>10}")
    for r in rows:
        print(f"{r['label']:<30} {r['runs']:>4} {r['median_s']:>7.3f}s {r['max_s']:>7.3f}s {r['slow_runs']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
