"""The reading pool's workers keep the memory their arrays free (issue 27 §2).

Each image allocates and frees arrays of a few hundred kilobytes. With glibc's defaults every such
block is mapped afresh and unmapped when freed, so a warm worker page-faulted about 75 times an image
(a tenth of its time in the kernel). reading.keep_freed_memory, the pool's initializer, stops that:
counted here in the workers' own fault counters, not timed."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from mnist_core.handwriting import reading as hw
from tests.conftest import SHARED

PHOTOS = SHARED / "data" / "handwriting_sample"
glibc_linux = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                 reason="page-fault counters in /proc and glibc's mallopt")


def _worker_faults() -> int:
    """Minor page faults of the pool's worker processes so far (/proc/PID/stat, field 10)."""
    total = 0
    for pid in list(hw._pool._processes):
        total += int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])
    return total


def _photos(n: int = 48) -> list:
    found = sorted(PHOTOS.glob("[0-9]/*"))
    if not found:
        pytest.skip("the shared handwriting sample is not here")
    return [(f"{p.parent.name}/{i}_{p.name}", p.read_bytes()) for i, p in enumerate((found * n)[:n])]


@glibc_linux
def test_the_switch_takes_on_glibc():
    assert hw.keep_freed_memory() is True


@glibc_linux
def test_warm_workers_read_without_page_faults():
    named = _photos()
    hw.shutdown_pool()  # a pool started by an earlier test may predate the initializer under test
    try:
        for _ in range(2):  # start the workers, then let each heap grow to what an image needs
            hw.process_many(named, parallel=True, judge=True)
        before = _worker_faults()
        results = hw.process_many(named, parallel=True, judge=True)
        per_image = (_worker_faults() - before) / len(named)
    finally:
        hw.shutdown_pool()
    assert all("x" in r and "judged" in r for r in results)
    assert per_image < 10, f"{per_image:.1f} page faults an image in warm workers (about 75 without the switch)"
