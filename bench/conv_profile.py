"""Where a `fast` epoch goes on this CPU: arithmetic rate of its layers against a large matrix product.

    python bench/conv_profile.py [--batch 2048] [--repeats 10] [--json]

Prints, for one batch: a 2048x2048 float32 matrix product (about the
machine's best rate), each first convolution tried for `fast` (conv stem,
stride 2, space-to-depth, narrow) and its second, forward and forward+weight
gradient, in GFLOP/s and milliseconds; then the float32 forward pass of the
whole nets (cropped input) over 55,000 images. A layer far below the matrix product's rate is
limited by memory traffic, not by arithmetic.
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


# (label, input size, input channels, kernel, output channels, stride): each timed forward and fwd + weight grad
CONVS = (("conv1 24@5x5 (conv stem)", 24, 1, 5, 24, 1), ("conv1 24@5x5 stride 2", 24, 1, 5, 24, 2),
         ("conv1 24@3x3 on 12x12x4 (fast: s2d)", 12, 4, 3, 24, 1), ("conv1 16@5x5 (narrow)", 24, 1, 5, 16, 1),
         ("conv2 32@3x3 on 24ch (fast)", 10, 24, 3, 32, 1), ("conv2 32@3x3 on 16ch (narrow)", 10, 16, 3, 32, 1))
# (label, the fast recipe's extra): whole float32 nets, forward only
NETS = (("fast (s2d stem)", {"crop": 2, "stem": "s2d"}), ("conv stem", {"crop": 2, "stem": "conv"}),
        ("narrow 16/32/128, conv stem", {"crop": 2, "widths": [16, 32, 128]}))


def timed(fn, repeats: int) -> float:
    """Median seconds of fn() after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def conv_rows(batch: int, repeats: int) -> list[dict]:
    import tensorflow as tf

    rows = []
    a = tf.random.uniform((2048, 2048))
    t = timed(lambda: tf.matmul(a, a).numpy(), repeats)
    rows.append({"op": "matmul 2048x2048", "ms": t * 1000, "gflops": 2 * 2048 ** 3 / t / 1e9})
    for label, size, cin, k, cout, stride in CONVS:
        x = tf.random.uniform((batch, size, size, cin))
        w = tf.Variable(tf.random.uniform((k, k, cin, cout)))
        out = (size - k) // stride + 1
        flops = 2 * batch * out * out * cout * k * k * cin
        fwd = tf.function(lambda x=x, w=w, stride=stride: tf.nn.conv2d(x, w, stride, "VALID"))

        @tf.function
        def fwd_grad(x=x, w=w, stride=stride):
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(tf.nn.relu(tf.nn.conv2d(x, w, stride, "VALID")))
            return tape.gradient(y, w)

        t1 = timed(lambda: fwd().numpy(), repeats)
        t2 = timed(lambda: fwd_grad().numpy(), repeats)
        rows.append({"op": label + " forward", "ms": t1 * 1000, "gflops": flops / t1 / 1e9})
        rows.append({"op": label + " fwd + weight grad", "ms": t2 * 1000, "gflops": 2 * flops / t2 / 1e9})
    return rows


def net_rows(images: int, batch: int) -> list[dict]:
    import numpy as np
    import tensorflow as tf

    from mnist_core.models import zoo
    from mnist_core.training.config import TrainConfig

    x = np.random.default_rng(0).random((images, 28, 28, 1), dtype=np.float32)
    rows = []
    for label, extra in NETS:
        net = zoo.build(TrainConfig.for_model("fast", precision="float32", extra=extra))
        fn = tf.function(lambda v, net=net: net(v, training=False))
        t = timed(lambda: [fn(x[i:i + batch]).numpy() for i in range(0, images, batch)], 1)
        rows.append({"op": f"forward pass, {label}, {images:,} images", "ms": t * 1000, "gflops": None})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--images", type=int, default=55000, help="images in the whole-net forward pass")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    rows = conv_rows(args.batch, args.repeats) + net_rows(args.images, args.batch)
    if args.json:
        print(json.dumps({"machine": machine(), "load": load(), "batch": args.batch, "rows": rows}))
        return 0
    print(f"conv profile, batch {args.batch}: {machine()} (load {load()})")
    print(f"{'operation':<58} {'ms':>9} {'GFLOP/s':>8}")
    for r in rows:
        rate = f"{r['gflops']:8.1f}" if r["gflops"] is not None else "       -"
        print(f"{r['op']:<58} {r['ms']:>9.1f} {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
