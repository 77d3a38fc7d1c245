"""`fast` under Keras' TensorFlow and JAX backends: the same net, recipe and seed, timed the same way.

    python bench/keras_backends.py [--seeds 3] [--epochs 2]

Issue 27 asked for Keras' JAX backend, measured, where it installs beside TensorFlow. The studio itself
trains through TensorFlow (tf.data, its callbacks, SavedModel export), so this bench leaves the studio's
pipeline out and trains the `fast` network (mnist_core.models.zoo.build_fast, its recipe: one-cycle Adam
with beta_1 0.7, batch 256, label smoothing 0.1 on one-hot labels, 4 batches per step call) with plain
`model.fit` on the first 55,000 training images, in float32, once per backend and seed, each in a fresh
process with KERAS_BACKEND set, interleaved. Reported per backend: setup (until the first step call
returned: compiling, tracing), seconds per epoch, the total, and test accuracy (not timed). Without
jax installed the JAX rows say so (`pip install "jax[cpu]"`; it is not in requirements.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
BACKENDS = ("tensorflow", "jax")


def worker(seed: int, epochs: int) -> dict:
    """Train `fast` here with the backend KERAS_BACKEND names; times and test accuracy."""
    import keras
    import numpy as np

    from mnist_core.data.mnist import load_mnist
    from mnist_core.models import zoo
    from mnist_core.training.config import TrainConfig
    from mnist_core.training.schedules import lr_schedule

    recipe = {**zoo.MODELS["fast"].recipe, "epochs": epochs, "precision": "float32", "seed": seed}
    config = TrainConfig(model="fast", **recipe)
    mnist = load_mnist(allow_download=False)
    x = mnist.x_train[:55000].astype("float32")[..., None] / 255
    y = np.eye(10, dtype="float32")[mnist.y_train[:55000]]
    keras.utils.set_random_seed(seed)
    steps = epochs * -(-len(x) // config.batch_size)
    marks: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if not marks:
                marks.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks.append(time.perf_counter())

    t0 = time.perf_counter()
    net = zoo.build_fast(config)
    net.compile(optimizer=keras.optimizers.Adam(lr_schedule(config, steps), beta_1=config.beta_1),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                steps_per_execution=config.steps_per_execution)
    net.fit(x, y, batch_size=config.batch_size, epochs=epochs, shuffle=True, verbose=0, callbacks=[Clock()])
    xt = mnist.x_test.astype("float32")[..., None] / 255
    accuracy = float((net.predict(xt, batch_size=1000, verbose=0).argmax(1) == mnist.y_test).mean())
    return {"backend": keras.backend.backend(), "setup": marks[0] - t0, "total": marks[-1] - t0,
            "per_epoch": (marks[-1] - marks[0]) / epochs, "accuracy": accuracy}


def run_one(backend: str, seed: int, epochs: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, __file__, "--worker", str(seed), "--epochs", str(epochs)],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        return {"backend": backend, "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.epochs)))
        return 0
    from _machine import load, machine

    print(f"{machine()}; load average before {load()}", flush=True)
    results: dict[str, list] = {b: [] for b in BACKENDS}
    for seed in range(args.seeds):  # interleaved: a burst of load falls on both backends
        for backend in BACKENDS:
            results[backend].append(run_one(backend, seed, args.epochs))
    print(f"load average after {load()}")
    print(f"{'backend':<12} {'runs':>4} {'setup':>7} {'s/epoch':>8} {'total':>8} {'median acc':>11} {'worst acc':>10}")
    medians = {}
    for backend, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            print(f"{backend:<12} {0:>4}   {runs[0]['error'][:160]}")
            continue
        med = {k: statistics.median(r[k] for r in ok) for k in ("setup", "per_epoch", "total", "accuracy")}
        medians[backend] = med
        print(f"{backend:<12} {len(ok):>4} {med['setup']:>6.2f}s {med['per_epoch']:>7.2f}s {med['total']:>7.2f}s "
              f"{med['accuracy']:>10.2%} {min(r['accuracy'] for r in ok):>10.2%}")
    if len(medians) == 2:
        print(f"JAX / TensorFlow total time: {medians['jax']['total'] / medians['tensorflow']['total']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
