"""A labelled handwriting collection for fine-tuning: reading it, and splitting it honestly.

read_samples turns a folder, a ZIP or uploaded files into exactly the inputs
evaluation feeds a model (reading.process_many), with each image's label,
writer and checksum; the splits (stratified by label, by writer, a validation
slice) are seeded, so a run can be repeated. Uploads a dashboard run keeps are
written as numbered files with a manifest (save_uploads), never by their names.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from mnist_core.training.config import ConfigError

UPLOADS_MANIFEST = "uploads.json"
MIN_PER_CLASS = 2  # one image to adapt on and one held out
FORMATS_HELP = ("label folders named 0-9 (7/x.png), a writer level beside them (7/alice/x.png or alice/7/x.png), "
                "or names that start with the digit (7_x.png)")


class FinetuneError(ConfigError):
    """The fine-tuning request cannot be honoured; the message says why and what is accepted."""


@dataclass
class Samples:
    """Model inputs of a labelled collection, with where each came from."""

    x: np.ndarray  # (N, 28, 28, 1) float32, exactly what evaluation feeds the model
    y: np.ndarray  # (N,) int
    files: list
    writers: list  # writer per image, None where the path names none
    digests: list  # sha256 of each file's bytes
    source: str = ""
    sha256: str = ""  # the collection's checksum: files, labels and contents
    n_files: int = 0  # images in the collection, labelled or not
    skipped: list = field(default_factory=list)  # [{file, reason}]

    def take(self, idx) -> "Samples":
        idx = np.asarray(idx, dtype=int)
        pick = (lambda seq: [seq[i] for i in idx])
        return Samples(self.x[idx], self.y[idx], pick(self.files), pick(self.writers), pick(self.digests),
                       self.source, self.sha256, self.n_files, [])

    def counts(self) -> dict:
        return {int(k): int(v) for k, v in zip(*np.unique(self.y, return_counts=True))}


def label_and_writer(file: str, label: int | None) -> tuple:
    """(label, writer) from a collection path; the writer is the folder level beside the label folder."""
    folders = PurePosixPath(file).parts[:-1]
    digit = (lambda s: re.fullmatch(r"[0-9]", s) is not None)
    if folders and digit(folders[-1]):  # writer/7/x.png (or just 7/x.png)
        return int(folders[-1]), folders[-2] if len(folders) >= 2 else None
    if len(folders) >= 2 and digit(folders[-2]):  # 7/writer/x.png
        return int(folders[-2]), folders[-1]
    return label, (folders[-1] if folders and label is not None else None)  # writer/7_x.png


def read_samples(source, what: str = "the collection") -> Samples:
    """Labelled model inputs of a folder, ZIP or [(name, bytes)]; a FinetuneError when none are usable."""
    from mnist_core.handwriting.collection import read_collection
    from mnist_core.handwriting.reading import process_many

    if isinstance(source, (str, os.PathLike)) and Path(source).name == UPLOADS_MANIFEST and Path(source).is_file():
        source = _uploads(Path(source))  # uploads kept by a dashboard run (save_uploads)
    try:
        coll = read_collection(source)
    except FileNotFoundError as exc:
        raise FinetuneError(f"{what}: {exc}") from None
    name = source if isinstance(source, (str, os.PathLike)) else f"{len(source)} uploaded file(s)"
    skipped, labelled, seen = list(coll.skipped), [], {}
    for item in coll.items:
        label, writer = label_and_writer(item.file, item.label)
        digest = hashlib.sha256(item.data).hexdigest()
        if label is None:
            skipped.append({"file": item.file, "reason": "no label in its folder or name"})
        elif digest in seen:  # a copy could land on both sides of the split
            skipped.append({"file": item.file, "reason": f"same content as {seen[digest]}: used once"})
        else:
            seen[digest] = item.file
            labelled.append((item, label, writer, digest))
    if not labelled:
        raise FinetuneError(f"{what} ({name}) has no labelled image ({len(coll.items)} image(s) read, "
                            f"{len(coll.skipped)} skipped): fine-tuning needs labels, given by {FORMATS_HELP}")
    results = process_many([(it.file, it.data) for it, *_ in labelled])
    xs, rows = [], []
    for (item, label, writer, digest), r in zip(labelled, results):
        if "reason" in r:
            skipped.append({"file": item.file, "reason": r["reason"]})
        elif r.get("parts") is not None:
            skipped.append({"file": item.file, "reason": f"holds {len(r['parts'])} digits; a labelled image "
                                                         "for fine-tuning must hold one"})
        else:
            xs.append(r["x"])
            rows.append((item.file, label, writer, digest))
    if not rows:
        raise FinetuneError(f"{what} ({name}): none of its {len(labelled)} labelled image(s) holds a readable "
                            f"digit; for example {skipped[-1]['file']}: {skipped[-1]['reason']}")
    files, labels, writers, digests = (list(c) for c in zip(*rows))
    checksum = hashlib.sha256("\n".join(sorted(f"{f}\0{l}\0{d}" for f, l, d in zip(files, labels, digests)))
                              .encode()).hexdigest()
    return Samples(np.stack(xs)[..., None].astype(np.float32), np.asarray(labels, np.int64), files, writers,
                   digests, str(name), checksum, len(coll.items), skipped)


# -- splits ---------------------------------------------------------------------------

def _count_text(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(adapt, held-out) indices: about `fraction` of every label held out, at least one on each side."""
    counts = {int(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))}
    short = {k: v for k, v in counts.items() if v < MIN_PER_CLASS}
    if short:
        raise FinetuneError(
            f"too few labelled images to split: every digit needs at least {MIN_PER_CLASS} (one to adapt on, one "
            f"held out); too few for {_count_text(short)} (images per digit: {_count_text(counts)}). Add images "
            "of those digits, or give a separate held-out collection")
    rng = np.random.default_rng(seed)
    adapt, held = [], []
    for label in sorted(counts):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_held = min(max(1, round(len(idx) * fraction)), len(idx) - 1)
        held.extend(idx[:n_held])
        adapt.extend(idx[n_held:])
    return np.sort(np.asarray(adapt, int)), np.sort(np.asarray(held, int))


def writer_split(writers: list, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(adapt, held-out) indices with whole writers on each side: no held-out writer is ever seen."""
    missing = [i for i, w in enumerate(writers) if w is None]
    if missing:
        raise FinetuneError(f"a split by writer needs a writer folder for every image ({FORMATS_HELP}); "
                            f"{len(missing)} image(s) have none")
    names = sorted(set(writers))
    if len(names) < 2:
        raise FinetuneError(f"a split by writer needs at least 2 writers; the collection has {len(names)} "
                            f"({', '.join(names)}): split by label instead, or add another writer's images")
    order = list(np.random.default_rng(seed).permutation(names))
    n_held = min(max(1, round(len(names) * fraction)), len(names) - 1)
    held_writers = set(order[:n_held])
    held = np.asarray([i for i, w in enumerate(writers) if w in held_writers], int)
    adapt = np.asarray([i for i, w in enumerate(writers) if w not in held_writers], int)
    return adapt, held


def validation_slice(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of the adaptation part: floor(fraction) of each label for validation."""
    rng = np.random.default_rng(seed + 1)
    train, val = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_val = int(len(idx) * fraction) if len(idx) > 1 else 0
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.asarray(train, int)), np.sort(np.asarray(val, int))


def overlap(a: Samples, b: Samples) -> list:
    """Pairs (file in a, file in b) with the same content."""
    where = dict(zip(a.digests, a.files))
    return [(where[d], f) for d, f in zip(b.digests, b.files) if d in where]


def save_uploads(folder: Path, files: list) -> Path:
    """Uploaded (name, bytes) kept as numbered files plus a manifest of their names (never written by name).

    read_samples reads the manifest back as the same [(name, bytes)] the page had, ZIPs among them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, (name, data) in enumerate(files):
        (folder / f"{i:05d}.bin").write_bytes(bytes(data))
        names.append(str(name))
    manifest = folder / UPLOADS_MANIFEST
    manifest.write_text(json.dumps(names))
    return manifest


def _uploads(manifest: Path) -> list:
    names = json.loads(manifest.read_text())
    return [(name, (manifest.parent / f"{i:05d}.bin").read_bytes()) for i, name in enumerate(names)]
