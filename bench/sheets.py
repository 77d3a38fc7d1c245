"""Collection sheets: how long reading one photo takes, how many filled boxes are found, and how well the shipped
model reads the cut digits.

A 10x10 sheet is filled with MNIST test digits (80% of the boxes, a new choice per sheet) and photographed
synthetically (tests/core/handwriting/sheet_photos.py: perspective, rotation up to 15 degrees, a lighting
gradient, blur, noise, JPEG, clutter around the page), then read with read_sheet; the filled boxes are
evaluated with the `default` model through evaluate_images, as the Batch page does.

    python bench/sheets.py [--sheets 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._machine import load, machine  # noqa: E402
from mnist_core.handwriting import sheet_reading, sheets  # noqa: E402
from tests.core.handwriting import sheet_photos as sp  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", type=int, default=6)
    args = ap.parse_args()
    from mnist_core.handwriting.reading import evaluate_images
    from mnist_core.models import loading

    model = loading.load("default", Path(__file__).resolve().parent.parent / "models")
    spec = sheets.SheetSpec()
    blank, layout = sheets.render(spec), sheets.layout(spec)
    seconds, found, expected, files, fits = [], 0, 0, [], []
    for k in range(args.sheets):
        rng = np.random.default_rng(100 + k)
        boxes = [(r, c) for r in range(10) for c in range(10) if rng.random() < 0.8]
        filled, _ = sp.fill(blank, layout, boxes, seed=100 + k)
        angle = float(rng.uniform(-15, 15))
        photo = sp.photograph(filled, seed=100 + k, angle=angle, tilt=float(rng.uniform(0.03, 0.15)))
        t0 = time.perf_counter()
        read = sheet_reading.read_sheet(photo, f"sheet{k}.jpg")
        seconds.append(time.perf_counter() - t0)
        assert read.reason is None, read.reason
        got = {(c.row, c.col) for c in read.filled}
        found += len(got & set(boxes))
        expected += len(boxes)
        fits.append(read.fit_mm)
        if got - set(boxes):
            print(f"sheet {k}: empty boxes taken as filled: {sorted(got - set(boxes))}")
        files += sheet_reading.collection_files(read)
    report = evaluate_images(model, files, parallel=False)
    print(f"machine: {machine()}; load {load()}")
    print(f"{args.sheets} photos 2000x2500 JPEG: read in {statistics.median(seconds):.2f} s median "
          f"({min(seconds):.2f}-{max(seconds):.2f}); filled boxes found {found}/{expected}; "
          f"marker fit {statistics.median(fits):.3f} mm RMS median")
    print(f"default model on the {report.n} cut digits: {report.accuracy:.1%} "
          f"({report.correct}/{report.n}, 95% CI {report.ci95[0]:.3f}-{report.ci95[1]:.3f})")


if __name__ == "__main__":
    main()
