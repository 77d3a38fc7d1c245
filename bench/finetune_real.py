"""Fine-tuning on a real source the base never saw: 10 labelled images per digit, the rest held out.

    python bench/finetune_real.py [--base default] [--sources uji,optdigits32,optdigits8] [--per-digit 10]
                                  [--set key=value ...] [--json]

Leave-one-source-out on the development data: for each source the base did not
learn from (its card's data_sources), 10 images of each digit adapt the model
and the rest are held out. UJI is split by writer: the adaptation images come
from half of the writers, the held-out images are every image of the other
half. optdigits has no writer ids: its adaptation images are drawn at random
and the held-out part is every other image (said in the output). Each run uses
the product's own fine-tuning (mnist_core.training.finetune) on a temporary
copy of the base, and prints held-out and MNIST test accuracy before and after,
and how far the held-out accuracy moved towards 100% (the goal: halfway).
--set overrides FinetuneConfig fields (e.g. --set replay=4 --set epochs=5).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def source_split(name: str, per_digit: int, seed: int = 0) -> tuple:
    """(adapt, held) as [(file, PNG bytes)] with label folders, and how it was split."""
    from mnist_core.data import real

    rng = np.random.default_rng(seed)
    if name == "uji":
        src = real.uji(pens=(0.08,), sizes=(200,))
        writers = np.unique(src.people)
        adapt_writers = set(rng.permutation(writers)[: len(writers) // 2].tolist())
        pool = np.flatnonzero(np.isin(src.people, list(adapt_writers)))
        held = np.flatnonzero(~np.isin(src.people, list(adapt_writers)))
        how = f"by writer: adapt from {len(adapt_writers)} writers, hold out the other {len(writers) - len(adapt_writers)}"
    else:
        src = real.optdigits(int(name.removeprefix("optdigits")))
        pool, held, how = np.arange(len(src)), None, "at random (optdigits has no writer ids)"
    adapt = np.concatenate([rng.permutation(pool[src.labels[pool] == k])[:per_digit] for k in range(10)])
    if held is None:
        held = np.setdiff1d(np.arange(len(src)), adapt)

    def files(index):
        return [(f"{src.labels[i]}/{name}-{i:05d}.png", real.png_bytes(src.images[i])) for i in index]

    return files(adapt), files(held), how


def run(base: str, source: str, per_digit: int, overrides: dict, store: Path) -> dict:
    from mnist_core.training.finetune import FinetuneConfig, finetune

    adapt, held, how = source_split(source, per_digit)
    name = f"tuned-{source}"
    config = FinetuneConfig(base=base, images="(bench)", holdout_images="(bench)", name=name, **overrides)
    card = finetune(config, images=adapt, holdout_images=held, store_root=store)
    ft = card["finetune"]
    before, after = ft["heldout_before"], ft["heldout_after"]
    return {"source": source, "split": how, "adapt_n": len(adapt), "heldout_n": ft["heldout_n"],
            "heldout_before": before, "heldout_after": after,
            "towards_100": (after - before) / (1 - before) if before < 1 else None,
            "mnist_before": ft["mnist_before"], "mnist_after": ft["mnist_after"], "success": ft["success"],
            "epochs_trained": ft["epochs_trained"], "seconds": ft["seconds"]}


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="default")
    parser.add_argument("--sources", default="uji,optdigits32,optdigits8")
    parser.add_argument("--per-digit", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], help="a FinetuneConfig field: key=value")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from mnist_core import paths
    from mnist_core.analysis.realworld import trained_on

    overrides = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    card = json.loads((paths.models_dir() / args.base / "card.json").read_text())
    learned = trained_on(card)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-finetune-real-") as tmp:
        store = Path(tmp) / "models"
        shutil.copytree(paths.models_dir() / args.base, store / args.base)
        os.environ["MNIST_STUDIO_RUNS"] = str(Path(tmp) / "runs")
        for source in args.sources.split(","):
            if source.rstrip("0123456789") in learned:
                print(f"{source}: skipped, '{args.base}' learned from it", file=sys.stderr)
                continue
            results.append(run(args.base, source, args.per_digit, overrides, store))
            r = results[-1]
            if not args.json:
                move = f"{r['towards_100']:.0%} of the way to 100%" if r["towards_100"] is not None else "-"
                print(f"{source:<12} {r['adapt_n']} adapt, {r['heldout_n']} held out ({r['split']}): "
                      f"{r['heldout_before']:.2%} -> {r['heldout_after']:.2%} ({move}); MNIST "
                      f"{r['mnist_before']:.2%} -> {r['mnist_after']:.2%}; {r['epochs_trained']} epochs, "
                      f"{r['seconds']:.0f} s", flush=True)
    if args.json:
        print(json.dumps({"base": args.base, "overrides": overrides, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
