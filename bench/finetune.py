"""Fine-tuning the shipped model on a scripted handwriting domain: before/after on held-out writers and on MNIST.

    python bench/finetune.py [--writers 24] [--per-digit 3] [--base default] [--epochs 3] [--replay 16] [--json]

Builds tests/fixtures/make_domain.py's domain (unusual but real writing
styles, some pages scanned at very low resolution, photographed) in a
temporary folder, then runs the real command line twice, each in a
temporary copy of the store and runs folder:
  by-writer: half the writers adapt, the other half are held out (never seen);
  10-per-class: 10 images of each digit adapt, every other image is held out.
Prints held-out and MNIST accuracy before and after, with 95% intervals.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def run_cli(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "finetune", *args, "--json", "--now"],
                          capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"finetune failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    from tests.fixtures.make_domain import make_domain

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=24)
    parser.add_argument("--per-digit", type=int, default=3)
    parser.add_argument("--base", default="default")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--replay", type=float, default=16)
    parser.add_argument("--only", choices=["by-writer", "10-per-class"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        tmp = Path(tmp)
        domain = make_domain(tmp / "domain", args.writers, args.per_digit)
        per_class = args.writers * args.per_digit
        scenarios = {"by-writer": ["--by-writer", "--holdout", "0.5"],
                     "10-per-class": ["--holdout", f"{1 - 10 / per_class:.4f}"]}
        results = {}
        for label, extra in scenarios.items():
            if args.only and label != args.only:
                continue
            models, runs = tmp / f"models-{label}", tmp / f"runs-{label}"
            shutil.copytree(REPO / "models" / args.base, models / args.base)
            env = {**os.environ, "MNIST_STUDIO_MODELS": str(models), "MNIST_STUDIO_RUNS": str(runs),
                   "TF_CPP_MIN_LOG_LEVEL": "3"}
            results[label] = run_cli(["--base", args.base, "--images", str(domain), "--epochs", str(args.epochs),
                                      "--replay", str(args.replay), "--name", "tuned", *extra], env)
    if args.json:
        print(json.dumps(results))
        return
    print(f"domain: {args.writers} scripted writers x 10 digits x {args.per_digit} photos "
          f"(tests/fixtures/make_domain.py), base '{args.base}'")
    for label, r in results.items():
        (bl, bh), (al, ah) = r["heldout_ci95_before"], r["heldout_ci95_after"]
        print(f"{label:>13}: adapt {r['adapt_n']}, held out {r['heldout_n']}: {r['heldout_before']:.2%} "
              f"[{bl:.1%}-{bh:.1%}] -> {r['heldout_after']:.2%} [{al:.1%}-{ah:.1%}]; MNIST {r['mnist_before']:.2%} "
              f"-> {r['mnist_after']:.2%}; {'success' if r['success'] else 'NOT a success'}; "
              f"{r['epochs_trained']} epochs, {r['seconds']:.0f}s")


if __name__ == "__main__":
    main()
