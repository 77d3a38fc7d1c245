"""Training data beyond MNIST: scan-styled MNIST and real development sources, split by person.

A TrainConfig names what it mixes in (`scan_styles`, `real_sources`); `extend`
adds those images to MNIST's training split and says, for the model's card,
every source the model learned from. The person splits are fixed here, once,
so training and bench/realworld.py agree on who was held out:
- uji: 30% of the 60 writers held out (seed 0); training sees the others;
- hds: 30% of the 21 people held out (seed 0), for the shapes model and the refusals;
- optdigits: no writer ids, so it is either trained on or measured, never
  both; a model's card says which.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mnist_core.data import capture, real

REAL_SOURCES = {"digits": ("uji", "optdigits"), "shapes": ("hds",)}  # what each task may mix in
UJI_HELD_OUT, UJI_SEED = 0.3, 0
HDS_HELD_OUT, HDS_SEED = 0.3, 0
CITATIONS = {
    "uji": "UJI Pen Characters v2 (D. Llorens et al., Universitat Jaume I; UCI ML Repository, CC BY 4.0)",
    "optdigits": "UCI Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1995; UCI ML Repository, "
                 "CC BY 4.0)",
    "hds": "Hand-drawn Shapes (HDS) Dataset (c) 2022 Francois Robert, CC BY 4.0",
}


def uji_split(source: real.Source) -> tuple:
    """(train, held) indices of a rendered UJI source, by writer."""
    return real.person_split(source.people, UJI_HELD_OUT, UJI_SEED)


def hds_split(source: real.Source) -> tuple:
    """(train, held) indices of the HDS drawings, by person."""
    return real.person_split(source.people, HDS_HELD_OUT, HDS_SEED)


def prepared(source: real.Source) -> tuple:
    """(x, labels) of the images the product's preprocessing finds a digit or shape in; labels as the source has them."""
    prepared = capture.prepare_all(source.images)
    keep = [i for i, p in enumerate(prepared) if p is not None]
    return np.stack([prepared[i] for i in keep])[..., None].astype(np.float32), source.labels[keep]


def real_part(name: str) -> tuple:
    """(x, y, card entry) of the part of a real source that training may see."""
    if name == "uji":
        source = real.uji()
        train, held = uji_split(source)
        x, y = prepared(source.subset(train))
        y = y.astype(np.int64)
        people = len(set(source.people[train].tolist()))
        return x, y, {"source": "uji", "images": int(len(y)), "people": people,
                      "held_out_people": len(set(source.people[held].tolist())), "citation": CITATIONS["uji"]}
    if name == "optdigits":
        parts = [prepared(real.optdigits(side)) for side in (32, 16, 8)]
        x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]).astype(np.int64)
        return x, y, {"source": "optdigits", "images": int(len(y)), "people": 30, "held_out_people": 0,
                      "note": "all 30 writers at 32, 16 and 8 px: no writer ids, so it is not a measurement "
                              "source for this model", "citation": CITATIONS["optdigits"]}
    if name == "hds":
        from mnist_core.data.shapes import CLASSES

        source = real.hds(real.SHAPE_LABELS)
        train, held = hds_split(source)
        x, y = prepared(source.subset(train))
        return x, np.array([CLASSES.index(str(v)) for v in y]), {
            "source": "hds", "images": int(len(y)), "people": len(set(source.people[train].tolist())),
            "held_out_people": len(set(source.people[held].tolist())), "classes": list(real.SHAPE_LABELS),
            "citation": CITATIONS["hds"]}
    raise ValueError(f"unknown real source {name!r}")


def extend(splits, scan_styles: int = 0, real_sources=(), seed: int = 0) -> tuple:
    """MNIST splits with scan-styled digits and real sources added to training: (splits, data_sources)."""
    xs, ys = [splits.x_train], [splits.y_train]
    sources = [{"source": "generated shapes" if getattr(splits, "generator_version", None) else "mnist",
                "images": int(len(splits.y_train))}]
    if scan_styles:
        x, y = capture.styled(splits.x_train, splits.y_train, scan_styles, seed)
        xs.append(x)
        ys.append(y.astype(splits.y_train.dtype))
        sources.append({"source": "scan-styles", "images": int(len(y)),
                        "note": f"MNIST training digits re-captured as scanned-form cells (style v{capture.STYLE_VERSION})"})
    for name in real_sources:
        x, y, entry = real_part(name)
        xs.append(x)
        ys.append(y.astype(splits.y_train.dtype))
        sources.append(entry)
    if len(xs) == 1:
        return splits, sources
    return replace(splits, x_train=np.concatenate(xs), y_train=np.concatenate(ys)), sources
