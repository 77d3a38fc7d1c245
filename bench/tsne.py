"""t-SNE beside PCA on raw MNIST test pixels: seconds, and how well each map keeps digits together.

`python bench/tsne.py [--sizes 500,1000]` prints, per size, t-SNE's time and the share of each image's
5 nearest neighbours on the map that carry its own label, for t-SNE and for PCA. Figures, no assertions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_core.analysis import embedding  # noqa: E402
from mnist_core.data import mnist  # noqa: E402
from bench._machine import load, machine  # noqa: E402


def neighbours_agree(xy: np.ndarray, y: np.ndarray, k: int = 5) -> float:
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float((y[np.argsort(d, axis=1)[:, :k]] == y[:, None]).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000")
    args = parser.parse_args()
    data = mnist.load_mnist()
    print(f"{machine()} · load {load()}")
    for n in (int(s) for s in args.sizes.split(",")):
        x, y = data.x_test[:n].reshape(n, -1).astype(np.float32), data.y_test[:n]
        t0 = time.perf_counter()
        xy = embedding.tsne(x)
        seconds = time.perf_counter() - t0
        pca = embedding.project(x).apply(x)
        print(f"{n:>6} images: t-SNE {seconds:6.1f} s · 5-NN same label: t-SNE {neighbours_agree(xy, y):.3f}, "
              f"PCA {neighbours_agree(pca, y):.3f}", flush=True)


if __name__ == "__main__":
    main()
