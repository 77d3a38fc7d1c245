"""Worker pools never run the parent's main script (a Streamlit page, an AppTest script).

The suite hung once on this: an AppTest had left its temporary script as __main__, the shapes
generator's spawn pool re-ran it in every worker, each died on it, and the pool replaced them forever.
Here __main__ is a script that only records that it ran, so a regression fails instead of hanging.
"""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest
from PIL import Image

from mnist_core.processes import no_main_script


@pytest.fixture
def main_script(tmp_path, monkeypatch):
    """__main__ is a script file that appends to a marker file whenever something runs it."""
    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('ran\\n')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    return marker


def test_the_shapes_generator_s_workers_leave_main_alone(main_script):
    from mnist_core.data import shapes

    parallel = shapes.generate(23, seed=5, workers=2)  # 23 x 9 classes: over the 200 jobs that start a pool
    serial = shapes.generate(23, seed=5, workers=1)
    assert not main_script.exists(), main_script.read_text()
    assert np.array_equal(parallel[0], serial[0]) and np.array_equal(parallel[1], serial[1])


def test_the_reading_pool_s_workers_leave_main_alone(main_script):
    from mnist_core.handwriting import reading

    canvas = Image.new("L", (120, 120), 255)
    canvas.paste(0, (55, 20, 65, 100))  # a dark stroke on paper: a 1
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    named = [(f"{i}.png", buf.getvalue()) for i in range(8)]
    reading.shutdown_pool()  # a fresh pool: its workers start under this __main__
    try:
        pooled = reading.process_many(named, parallel=True)
    finally:
        reading.shutdown_pool()
    assert not main_script.exists(), main_script.read_text()
    serial = reading.process_many(named, parallel=False)
    assert all(np.array_equal(a["x"], b["x"]) for a, b in zip(pooled, serial))


def test_main_comes_back_after_the_block_unless_someone_replaced_it(monkeypatch):
    mine = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", mine)
    with no_main_script():
        bare = sys.modules["__main__"]
        assert bare is not mine and not hasattr(bare, "__file__") and bare.__spec__ is None
    assert sys.modules["__main__"] is mine
    other = types.ModuleType("__main__")
    with no_main_script():
        sys.modules["__main__"] = other  # a Streamlit rerun in another thread sets the page it runs
    assert sys.modules["__main__"] is other
