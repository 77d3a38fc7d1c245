"""Ten browser sessions at once against one server, each drawing and uploading its own ZIP.

Each session draws its own number of strokes and uploads a ZIP of its own
size (bench/load.py), so one that saw another's drawing or results fails its
wait. Timings are bench/load.py's business: nothing here is timed.
"""

import asyncio
import concurrent.futures

import pytest

from bench.load import run_sessions


@pytest.mark.slow
def test_ten_sessions_at_once(server, chromium_path, tmp_path):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, beside the sync Playwright
        warm = pool.submit(asyncio.run, run_sessions(server, 1, 1, tmp_path, chromium_path)).result(timeout=300)
        results = pool.submit(asyncio.run, run_sessions(server, 10, 1, tmp_path, chromium_path)).result(timeout=300)
    assert warm[0]["problems"] == []
    assert [p for r in results for p in r["problems"] + r["crosstalk"]] == []
    assert len(results) == 10
    assert [len(r["canvas"]) for r in results] == [1] * 10 and [len(r["batch"]) for r in results] == [1] * 10
