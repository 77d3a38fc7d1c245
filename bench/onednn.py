"""oneDNN on and off: `fast` and `best` training, canvas readings; speed, accuracy and determinism.

    python bench/onednn.py [--fast-images 5000] [--best-steps 200] [--canvas 200] [--repeats 2] [--seed 0]

Every measurement runs in a fresh process started with TF_ENABLE_ONEDNN_OPTS=1
or =0 (TensorFlow reads it once, at import), the two settings interleaved so
a change in the machine's load hits both alike, each setting `--repeats`
times with the same seed. Per task it prints the median seconds on and off,
their ratio, the test accuracy of every run, and whether the runs of one
setting ended with the same weights (determinism) and how far the two
settings' accuracies are apart. Tasks:
- fast: the `fast` recipe, 1 epoch over --fast-images training images;
- best: the `best` recipe (augmentation, batch norm), --best-steps steps of 128;
- canvas: a drawing read as the Draw page reads it (reading.read_image with
  the shipped `default`: preprocessing, the model, "not a digit"), the median
  of --canvas readings after 10 for warm-up, and the model call alone.
Training times are the train call's wall seconds (building, tracing, the
epoch, the test set), the figure a user waits for. No timing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
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

SETTINGS = {"on": "1", "off": "0"}


def train_task(model: str, images: int, seed: int) -> dict:
    from mnist_core.data.mnist import load_splits
    from mnist_core.training import loop
    from mnist_core.training.config import TrainConfig
    from mnist_core.training.observers import Progress

    splits = load_splits()
    config = TrainConfig.for_model(model, seed=seed, epochs=1, train_subset=images)
    digest = {}

    class Weights(Progress):
        def epoch_model(self, epoch, net):
            h = hashlib.sha256()
            for w in net.get_weights():
                h.update(w.tobytes())
            digest["sha256"] = h.hexdigest()[:16]
            return False

    t0 = time.perf_counter()
    card = loop.train(config.validate(), splits=splits, progress=Weights(), save=False)
    precision = config.precision if config.precision != "mixed_bfloat16" or loop.native_bfloat16() else \
        "float32: no bfloat16 in hardware"
    return {"seconds": time.perf_counter() - t0, "accuracy": card["test_accuracy"], "weights": digest.get("sha256"),
            "precision": precision}


def canvas_task(readings: int) -> dict:
    import numpy as np

    from mnist_core.handwriting.reading import read_image
    from mnist_core.models import loading
    from tests.hostile.digits import digit_image

    model = loading.load("default")
    canvas = np.asarray(digit_image(7, size=280, width=18, ink=0, paper=255))
    x = np.zeros((1, 28, 28, 1), np.float32)
    for _ in range(10):
        read_image(model, canvas)
        model.predict_proba(x)
    reads, calls = [], []
    for _ in range(readings):
        t0 = time.perf_counter()
        answer = read_image(model, canvas)
        t1 = time.perf_counter()
        probs = model.predict_proba(x)
        calls.append(time.perf_counter() - t1)
        reads.append(t1 - t0)
    return {"seconds": statistics.median(reads), "model_call": statistics.median(calls),
            "answer": str(answer.get("number") if isinstance(answer, dict) else getattr(answer, "number", answer)),
            "weights": hashlib.sha256(np.asarray(probs, np.float32).tobytes()).hexdigest()[:16]}


def worker(spec: dict) -> dict:
    from tensorflow.python.util import _pywrap_util_port

    if spec["task"] == "canvas":
        out = canvas_task(spec["readings"])
    else:
        out = train_task(spec["task"], spec["images"], spec["seed"])
    return {**out, "onednn": bool(_pywrap_util_port.IsMklEnabled())}


def run_worker(spec: dict, setting: str) -> dict:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": SETTINGS[setting]}
    return run_fresh(__file__, spec, env, f" ({setting})")


def summary(task: str, runs: dict) -> list[str]:
    on, off = runs["on"], runs["off"]
    t_on, t_off = statistics.median(r["seconds"] for r in on), statistics.median(r["seconds"] for r in off)
    unit = (1000, "ms") if task == "canvas" else (1, "s")
    lines = [f"{task:<7} on  {t_on * unit[0]:8.2f} {unit[1]}   off {t_off * unit[0]:8.2f} {unit[1]}   "
             f"off/on {t_off / t_on:5.2f}x"]
    if task == "canvas":
        c_on, c_off = (statistics.median(r["model_call"] for r in rs) * 1000 for rs in (on, off))
        lines.append(f"        model call alone: on {c_on:.2f} ms, off {c_off:.2f} ms, off/on {c_off / c_on:.2f}x; "
                     f"answers on {sorted({r['answer'] for r in on})}, off {sorted({r['answer'] for r in off})}")
    else:
        for name, rs in (("on", on), ("off", off)):
            accs = ", ".join(f"{r['accuracy']:.4f}" for r in rs)
            same = len({r["weights"] for r in rs}) == 1
            lines.append(f"        {name:<3} test accuracy {accs}; same seed, same weights in every run: "
                         f"{'yes' if same else 'NO'} ({rs[0]['precision']})")
        gap = abs(statistics.median(r["accuracy"] for r in on) - statistics.median(r["accuracy"] for r in off))
        lines.append(f"        accuracy on vs off: {gap * 100:.2f} points apart; same weights on and off: "
                     f"{'yes' if on[0]['weights'] == off[0]['weights'] else 'no (different rounding)'}")
    if not all(r["onednn"] for r in on) or any(r["onednn"] for r in off):
        lines.append("        WARNING: TensorFlow did not follow TF_ENABLE_ONEDNN_OPTS in every run")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast-images", type=int, default=5000)
    parser.add_argument("--best-steps", type=int, default=200)
    parser.add_argument("--canvas", type=int, default=200, help="canvas readings timed per process")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default="fast,best,canvas")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    from _machine import load, machine

    specs = {"fast": {"task": "fast", "images": args.fast_images, "seed": args.seed},
             "best": {"task": "best", "images": args.best_steps * 128, "seed": args.seed},
             "canvas": {"task": "canvas", "readings": args.canvas}}
    print(f"oneDNN on and off: {machine()}; load {load()} at the start", flush=True)
    out = []
    for task in args.tasks.split(","):
        runs = {"on": [], "off": []}
        for i in range(args.repeats):
            for setting in (("on", "off") if i % 2 == 0 else ("off", "on")):
                runs[setting].append(run_worker(specs[task], setting))
        out += summary(task, runs)
        print("\n".join(summary(task, runs)), flush=True)
    print(f"load {load()} at the end; fast: {args.fast_images} images, 1 epoch; best: {args.best_steps} steps of 128; "
          f"{args.repeats} process(es) per setting, interleaved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
