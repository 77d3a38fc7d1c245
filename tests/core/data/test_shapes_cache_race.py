"""Processes drawing the same shapes split at once (pytest-xdist workers, two servers) each write their own
temporary file (the same name could be written by two at once), so no reader ever opens a file another process is still writing."""

import os

import numpy as np

from mnist_core.data import shapes


def test_every_writer_has_its_own_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setattr(shapes, "generate", lambda per_class, seed, workers=1: (
        np.full((per_class, 28, 28, 1), 0.5, np.float32), np.zeros(per_class, np.int32)))
    written, replace = [], os.replace
    monkeypatch.setattr(shapes.os, "replace", lambda src, dst: (written.append(src), replace(src, dst)))
    for _ in range(2):  # drawn and written once per folder, then read back
        x, y = shapes.load_split("test", 3, cache=tmp_path / "a")
        shapes.load_split("test", 3, cache=tmp_path / "b")
    assert len(written) == 2 and written[0].name != written[1].name
    assert all(p.parent == tmp_path / d for p, d in zip(written, "ab"))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f"shapes-v{shapes.GENERATOR_VERSION}-test-3.npz"]
    assert x.shape == (3, 28, 28, 1) and np.all(x == np.float32(128) / 255)
