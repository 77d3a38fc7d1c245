"""A model's test-set predictions, computed once and kept beside its card.

The Inspect page needs the probabilities of all the test images (MNIST's
10,000 for a digits model, the generated test split for a shapes model:
analysis/testset.py); predicting them took most of its 10 s. They are computed on first use and attached to
the model's folder (store.attach, under the store's write lock) as
`cache-test-probs.npz`, with a fingerprint of what they were computed from:
the model file's bytes (for an ensemble, its members' fingerprints in order)
and the test set's checksum. A reader recomputes when either no longer
matches, so a retrained, overwritten or hand-replaced model is never shown
with stale predictions. A new save drops the file anyway (a save makes a new
folder).

The repo ships this file for its shipped models (tasks.SHIPPED: `default` and
`shapes`), so Inspect's first visit on a fresh clone predicts nothing. After
replacing one of them, `make predictions` (python -m mnist_core.analysis.predictions)
writes them again; until then the stale file is simply recomputed on first use.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnist_core.models import loading, store

FILE = "cache-test-probs.npz"
_CHUNK = 1 << 20


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _own_fingerprint(name: str, folder: Path, card: dict) -> str:
    file = store.file_name({**card, "name": name})
    try:
        return f"{card['backend']}:{_file_digest(folder / file)}"
    except OSError:
        raise store.CorruptModel(f"model '{name}' has no readable {file}") from None


def fingerprint(name: str, root: Path | None = None) -> str:
    """What a model's predictions depend on: its file's bytes, or an ensemble's members' fingerprints."""
    return store.read(name, lambda folder, card: _fingerprint(name, folder, card, root), root)


def _fingerprint(name: str, folder: Path, card: dict, root: Path | None) -> str:
    if loading.is_ensemble(card):
        members = [fingerprint(m, root) for m in loading.member_names(card)]
        return "ensemble:" + hashlib.sha256("|".join(members).encode()).hexdigest()
    return _own_fingerprint(name, folder, card)


def _cached(name: str, data_sha: str, n: int, root: Path | None) -> tuple[np.ndarray | None, str]:
    """(probabilities if the attached file is still valid, else None; the model's fingerprint now)."""
    def reader(card: dict, folder: Path, blob: bytes | None):
        now = _fingerprint(name, folder, card, root)
        if blob is None:
            return None, now
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as saved:
                valid = str(saved["fingerprint"]) == now and str(saved["data_sha256"]) == data_sha
                probs = np.asarray(saved["probs"], np.float32) if valid else None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None, now  # a torn or foreign file: compute again
        return (probs if probs is not None and probs.ndim == 2 and len(probs) == n else None), now

    return store.read_attached(name, FILE, reader, root)


def test_probs(name: str, x_test: np.ndarray, data_sha: str, root: Path | None = None,
               load: Callable[[], object] | None = None) -> np.ndarray:
    """Probabilities (N, classes) of models/<name> on x_test, from the attached file when it is still valid.

    Otherwise the model is loaded (`load`, e.g. a cached loader; default
    loading.load) and predicts, and the result is attached for next time
    (silently skipped when the store cannot be written).
    """
    probs, now = _cached(name, data_sha, len(x_test), root)
    if probs is not None:
        return probs
    model = load() if load else loading.load(name, root)
    probs = np.asarray(model.predict_proba(x_test), np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, probs=probs, fingerprint=np.array(now), data_sha256=np.array(data_sha))
    store.attach(name, FILE, buffer.getvalue(), root)
    return probs


def is_cached(name: str, x_test: np.ndarray, data_sha: str, root: Path | None = None) -> bool:
    """Whether test_probs would answer from the attached file (no model load, no prediction)."""
    return _cached(name, data_sha, len(x_test), root)[0] is not None


def refresh(names=None, root: Path | None = None) -> list[str]:
    """Make the kept test-set predictions of `names` (default: the shipped models) valid; a line per model."""
    from mnist_core import tasks
    from mnist_core.analysis import testset

    lines = []
    for name in names or tasks.SHIPPED.values():
        data = testset.load(tasks.of_card(store.read_card(name, root)))
        if is_cached(name, data.x, data.sha256, root):
            lines.append(f"{name}: kept predictions are up to date")
            continue
        probs = test_probs(name, data.x, data.sha256, root)
        if not is_cached(name, data.x, data.sha256, root):
            raise store.StoreError(f"model '{name}': could not write {FILE} beside its card")
        lines.append(f"{name}: predicted {len(probs):,} {data.description}, kept in {store.model_dir(name, root) / FILE}")
    return lines


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mnist_core.analysis.predictions",
                                     description="Write the kept test-set predictions of models whose file is "
                                                 "missing or stale (default: the shipped models).")
    parser.add_argument("names", nargs="*", help="model names (default: default shapes)")
    args = parser.parse_args(argv)
    for line in refresh(args.names or None):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
