"""Progressive resizing for `fast`: early steps on 12x12 images, then 24x24 (issue 27's last candidate).

    python bench/progressive_resizing.py [--seeds 3] [--recipes LABELS] [--subset N] [--json]

`fast`'s flatten head fixes the size of its last feature maps, so it cannot see two image sizes. What
can is the same net with a global pooling head (`same` padding keeps small maps alive): whitened
frozen stem 16@5x5 stride 2, conv 32@3x3 (or 64), 2x2 pooling, global max (or average) pooling, dense
128. Every recipe here trains with `fast`'s own recipe (one-cycle Adam at 1.2e-2, beta_1 0.7, batch 256,
label smoothing 0.1, 4 batches per step call) through the training loop's own pieces, in a fresh
process per (recipe, seed), interleaved. The 12x12 images are the 24x24 crops averaged over 2x2 blocks.
Reported per recipe: seconds from building the net to the end of training, test accuracy (median,
worst) and how many seeds reached 99%. `fast` itself runs in the same harness as the yardstick.
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

TARGET = 0.99
CROP = 2
# label: (head, conv2 width, phases as (image side, epochs))
RECIPES = {
    "fast (flatten head), 24x24 x2": ("flatten", 32, ((24, 2),)),
    "global max head, 24x24 x2": ("max", 32, ((24, 2),)),
    "global max head, 12x12 then 24x24": ("max", 32, ((12, 1), (24, 1))),
    "global average head, 24x24 x2": ("avg", 32, ((24, 2),)),
    "global max head, conv2 64, 24x24 x2": ("max", 64, ((24, 2),)),
    "global max head, conv2 64, 12x12 then 24x24": ("max", 64, ((12, 1), (24, 1))),
}


def images_at(x, side: int):
    """The crop the nets see (24x24), or its 2x2-block means (12x12)."""
    crop = x[:, CROP:x.shape[1] - CROP, CROP:x.shape[2] - CROP, :]
    if side == crop.shape[1]:
        return crop
    f = crop.shape[1] // side
    return crop.reshape(len(crop), side, f, side, f, 1).mean(axis=(2, 4))


def build_pooled(config, head: str, width: int):
    """`fast` with `same` padding and a global pooling head: any image size in, the same weights."""
    import keras
    from keras import layers

    from mnist_core.models.zoo import _softmax_head

    x = inputs = keras.Input((None, None, 1))
    x = layers.Conv2D(16, 5, strides=2, padding="same", name="stem", trainable=False)(x)
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(layers.Activation("relu")(x))
    x = layers.MaxPooling2D()(x)
    x = (layers.GlobalMaxPooling2D() if head == "max" else layers.GlobalAveragePooling2D())(x)
    x = layers.Dense(128, activation="relu")(x)
    return keras.Model(inputs, _softmax_head(x, config), name="fast_pooled")


def worker(spec: dict) -> dict:
    """Train one (recipe, seed) here: seconds from building the net to the end of training, test accuracy."""
    import numpy as np

    from mnist_core.data.mnist import load_splits
    from mnist_core.models import zoo
    from mnist_core.models.whitening import whiten_stem, whitening_filters
    from mnist_core.training import loop
    from mnist_core.training.config import TrainConfig

    head, width, phases = RECIPES[spec["recipe"]]
    splits = load_splits()
    x, y = splits.x_train[:spec.get("subset")], splits.y_train[:spec.get("subset")]
    config = TrainConfig.for_model("fast", seed=spec["seed"])
    loop._seed_everything(config.seed)
    started = time.perf_counter()
    if head == "flatten":
        net, sized = zoo.build(config), lambda images, side: images  # `fast` crops inside the net
        whiten_stem(net, x, config)
    else:
        net, sized = build_pooled(config, head, width), images_at
        net.get_layer("stem").set_weights(list(whitening_filters(images_at(x[:2048], 24), 5, 2, 16)))
    steps = sum(epochs * -(-len(x) // config.batch_size) for _, epochs in phases)
    net.compile(optimizer=loop._optimizer(config, steps), loss=loop._loss(config), metrics=["accuracy"],
                steps_per_execution=loop.steps_per_call(config.steps_per_execution, steps // len(phases)))
    for side, epochs in phases:  # the optimizer's step count, and so the one-cycle rate, runs on across phases
        images = sized(x, side)
        net.fit(loop._dataset(images, y, config), epochs=epochs, verbose=0, shuffle=False)
    seconds = time.perf_counter() - started
    probs = np.concatenate([np.asarray(net(sized(splits.x_test[i:i + 2000], 24), training=False))
                            for i in range(0, len(splits.x_test), 2000)])
    return {"recipe": spec["recipe"], "seed": spec["seed"], "seconds": seconds,
            "test_accuracy": float((probs.argmax(1) == splits.y_test).mean())}


def run_worker(spec: dict) -> dict:
    return run_fresh(__file__, spec)


def summarize(label: str, runs: list[dict]) -> dict:
    accs = [r["test_accuracy"] for r in runs]
    return {"label": label, "seeds": len(runs), "reached": sum(a >= TARGET for a in accs),
            "median_seconds": statistics.median(r["seconds"] for r in runs),
            "median_accuracy": statistics.median(accs), "worst_accuracy": min(accs), "runs": runs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--recipes", default=";".join(RECIPES), help="row labels separated by ';'")
    p.add_argument("--subset", type=int, help="train on this many images (smoke runs)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    labels = [label.strip() for label in args.recipes.split(";") if label.strip()]
    unknown = [label for label in labels if label not in RECIPES]
    if unknown or args.seeds < 1:
        print(f"error: unknown recipes {unknown} (choose from: {'; '.join(RECIPES)}) or --seeds under 1",
              file=sys.stderr)
        return 2
    load_before, started = load(), time.strftime("%Y-%m-%d %H:%M")
    runs = {label: [] for label in labels}
    for seed in range(args.seeds):  # interleaved: a burst of load falls on every recipe
        for label in labels:
            runs[label].append(run_worker({"recipe": label, "seed": seed, "subset": args.subset}))
    rows = [summarize(label, runs[label]) for label in labels]
    report = {"started": started, "machine": machine(), "load": [load_before, load()], "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['machine']}; started {started}; load {load_before} -> {report['load'][1]}")
    print(f"{'recipe':<46} {'seeds >= 99%':>12} {'seconds':>8} {'median acc':>10} {'worst acc':>9}")
    for r in rows:
        print(f"{r['label']:<46} {r['reached']:>7}/{r['seeds']:<4} {r['median_seconds']:>8.2f} "
              f"{r['median_accuracy']:>10.2%} {r['worst_accuracy']:>9.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
