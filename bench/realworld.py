"""Real handwriting from sources and people the models never saw: one table, every model, every source.

    python bench/realworld.py [--models default,shapes] [--quick] [--save] [--json]

Sources (../shared/data/real, split by person; mnist_core/analysis/realworld.py):
optdigits scanned forms at 32, 16 and 8 px (30 writers; not scored for a model
that trained on them: they have no writer ids), UJI tablet digits of the
writers held out of training, rendered at three pens and two sizes, the 100
shared photos under six conditions, and for a shapes model the HDS drawings of
the people held out. Per model and source: accuracy with its Wilson 95%
interval, the share refused ("not a digit"/"not a shape") and the commonest
confusions. Then the refusals: real digits refused per source, generated
non-digits and HDS drawings refused (digits), HDS "other" drawings refused
(shapes).

--save writes each model's figures to models/<name>/realworld.json (the Models
page shows them). --quick scores a quarter of each source: a smoke test only.
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

from _machine import machine  # noqa: E402

NEGATIVE_SEED = 2  # never the detector's training seed (bench/not_a_digit.py TRAIN_SEED = 1)


def refusals_of_non_digits(model, quick: bool) -> dict:
    """Share of generated non-digits, and of HDS drawings by held-out people, answered "not a digit" when read
    as on the Draw page (read_image: no number when every part is refused). The detector is the shipped one
    whatever the model; the model only gives the guesses nobody sees."""
    from mnist_core.data import mix, real
    from mnist_core.handwriting import negatives
    from mnist_core.handwriting.reading import read_image

    gen = [im for _, im in negatives.generate(300 if quick else 1200, NEGATIVE_SEED)]
    hds = real.hds()
    _, held = mix.hds_split(hds)
    drawings = [hds.images[i] for i in held[:: 8 if quick else 1]]
    out = {}
    for name, images in (("generated non-digits", gen), ("HDS drawings, held-out people", drawings)):
        refused = sum(read_image(model, im).number is None for im in images)
        out[name] = {"n": len(images), "refused": refused, "share": refused / len(images)}
    return out


def other_refused(model, quick: bool) -> dict:
    """HDS "other" drawings (cubes, arrows, letters, scribbles) by held-out people answered "not a shape"."""
    from mnist_core.data import mix, real
    from mnist_core.handwriting.collection import Limits
    from mnist_core.handwriting.reading import evaluate_images

    src = real.hds()
    _, held = mix.hds_split(src)
    others = src.subset([i for i in held if src.labels[i] == "other"][:: 4 if quick else 1])
    files = [(f"other-{i:05d}.png", data) for i, (_, data) in enumerate(real.as_upload(others))]  # unlabelled
    r = evaluate_images(model, files, limits=Limits(max_files=10**6, max_total_bytes=2**34))
    refused = sum(p.prediction is None for p in r.predictions) + len(r.skipped)
    return {"n": len(files), "refused": refused, "share": refused / max(1, len(files))}


def print_table(name: str, scores: list) -> None:
    from mnist_core.analysis.realworld import table_rows

    print(f"\n{name}")
    print(f"  {'source':<30} {'images':>6} {'accuracy':>10} {'95% interval':>13} {'refused':>8}  commonest errors")
    for r in table_rows(scores):
        print(f"  {r['source']:<30} {r['images'] if r['images'] is not None else '':>6} {r['accuracy']:>10} "
              f"{r['95% interval']:>13} {r['refused']:>8}  {r['commonest errors']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="default,shapes")
    parser.add_argument("--quick", action="store_true", help="a quarter of each source (smoke test)")
    parser.add_argument("--save", action="store_true", help="write models/<name>/realworld.json")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from mnist_core.analysis import realworld
    from mnist_core.data import real
    from mnist_core.models import loading

    if not real.available():
        print(f"error: the real development data is not in {real.real_dir()}", file=sys.stderr)
        return 2
    t0 = time.time()
    digit_sources = shape_sources = digits_model = None
    results = {}
    for name in [m for m in args.models.split(",") if m]:
        model = loading.load(name)
        shapes = model.task.named
        if shapes:
            shape_sources = shape_sources or realworld.shape_sources(args.quick)
            scores = realworld.measure(model, shape_sources)
            extra = {"other_refused": other_refused(model, args.quick)}
        else:
            digit_sources = digit_sources or realworld.digit_sources(args.quick)
            digits_model = digits_model or model
            scores = realworld.measure(model, digit_sources)
            extra = {}
        results[name] = {"sources": [s.to_json() for s in scores], **extra}
        if args.save and not args.quick:
            realworld.save(name, scores, extra)
        if not args.json:
            print_table(name, scores)
            if extra:
                o = extra["other_refused"]
                print(f"  HDS 'other' drawings answered 'not a shape': {o['share']:.1%} ({o['refused']}/{o['n']})")
    if digit_sources is not None:
        results["refusals"] = refusals_of_non_digits(digits_model, args.quick)
        if not args.json:
            print("\nnot a digit (the shipped detector, whatever the model):")
            for k, v in results["refusals"].items():
                print(f"  {k:<32} refused {v['share']:.1%} ({v['refused']}/{v['n']})")
    results["machine"], results["seconds"] = machine(), round(time.time() - t0, 1)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"\n{results['machine']}; {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
