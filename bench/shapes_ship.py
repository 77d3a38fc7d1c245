"""Choose, calibrate and ship the `shapes` model; print its accuracy on the generated splits.

    python bench/shapes_ship.py --store /tmp/shapes-store CANDIDATE [CANDIDATE ...]

Each candidate (a shapes model trained with `python -m mnist_core train --task
shapes`, in the store given) is scored on the generated validation split; the
best is copied to models/shapes with its "not a shape" head (not_a_shape.py)
fitted on training shapes (its threshold chosen on validation shapes) against MNIST validation digits and
negatives.py's non-digit drawings that are not shapes (scribbles, letters,
textures, dots) and the real HDS "other" drawings (cubes, arrows, letters, scribbles) by the
people training may see; real HDS shapes by those people join the shapes it keeps. Prints validation and test accuracy of every candidate, and
the share of those others the head refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.analysis import evaluate  # noqa: E402
from mnist_core.data import mnist, shapes  # noqa: E402
from mnist_core.handwriting import negatives, not_a_shape  # noqa: E402
from mnist_core.models import loading, store  # noqa: E402


def others(n_digits: int = 1500, n_negatives: int = 600) -> np.ndarray:
    digits = mnist.load_splits().x_val[:n_digits]
    drawn = [shapes.to_mnist_form(im) for _, im in
             negatives.generate(n_negatives, seed=7, kinds=("scribble", "letter", "texture", "dot"))]
    drawn = np.stack([d for d in drawn if d is not None])[..., None]
    return np.concatenate([digits, drawn, hds_part("other")])


def hds_part(which: str) -> np.ndarray:
    """Real HDS drawings by the people outside the held-out split (data/mix.py): 'other' or the shapes."""
    from mnist_core.data import mix, real

    src = real.hds()
    train, _ = mix.hds_split(src)
    keep = [i for i in train if (src.labels[i] == "other") == (which == "other")]
    return mix.prepared(src.subset(keep))[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("candidates", nargs="+")
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--ship-as", default="shapes")
    args = ap.parse_args()
    splits = shapes.load_splits()
    rows = []
    for name in args.candidates:
        model = loading.load(name, args.store)
        val = evaluate.evaluate_model(model, splits.x_val, splits.y_val, 0)
        test = evaluate.evaluate_model(model, splits.x_test, splits.y_test, 0)
        rows.append((val["accuracy"], name, test))
        print(f"{name}: validation {val['accuracy']:.4f} ({val['correct']}/{val['n']}), "
              f"test {test['accuracy']:.4f} ({test['correct']}/{test['n']}, 95% CI "
              f"{test['ci95'][0]:.4f}-{test['ci95'][1]:.4f})")
    _, best, test = max(rows, key=lambda r: r[0])
    model = loading.load(best, args.store)
    # Real shapes fit the head beside the generated ones; the threshold stays on generated validation shapes:
    # set on real ones as well it let drawings of no shape through (a scribble read as a star on Draw).
    real_shapes = hds_part("shapes")
    entry = not_a_shape.calibrate(model, np.concatenate([splits.x_train[::2], real_shapes]), others(),
                                  threshold_x=splits.x_val)
    print(f"chosen on validation: {best}; 'not a shape' refuses {entry['others_refused']:.3f} of the others, "
          f"{entry['reject_budget']:.3f} of validation shapes")
    src = args.store / best
    store.save(args.ship_as, model.net, {**json.loads((src / store.CARD_FILE).read_text()), "not_a_shape": entry,
                                         "trained_as": best})
    print(f"shipped as models/{args.ship_as}: test accuracy {test['accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
