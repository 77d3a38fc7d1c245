"""Bulk reading on a real local Ray gives what the local worker pool gives: predictions, order, skipped files."""

from pathlib import Path

import pytest

from mnist_core.handwriting import reading
from mnist_core.handwriting.on_ray import process_on_ray
from tests.fixtures import HANDWRITING

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    import os

    import ray

    os.environ.setdefault("MNIST_STUDIO_RAY_CPUS", "2")
    os.environ.setdefault("MNIST_STUDIO_RAY_OBJECT_STORE_MB", "128")
    yield
    ray.shutdown()


def _named() -> list:
    files = sorted(HANDWRITING.rglob("*.jpg"))
    named = [(f"{p.parent.name}/{p.name}", p.read_bytes()) for p in files]
    # Bad files among good ones: their reasons must come back in their places.
    return named[:5] + [("bad/truncated.jpg", named[0][1][:300]), ("bad/notes.jpg", b"hello")] + named[5:]


def test_the_same_results_in_the_same_order_as_the_worker_pool(local_ray):
    named = _named()
    seen = []
    on_ray, info = process_on_ray(named, reading._process_chunk, reading.BATCH_DRAFT, chunk=8,
                                  progress=lambda done, total: seen.append((done, total)))
    here = reading.process_many(named, parallel=False)
    assert len(on_ray) == len(here) == len(named)
    for a, b in zip(on_ray, here):
        assert a.keys() == b.keys()
        if "reason" in a:
            assert a["reason"] == b["reason"]
        else:
            assert (a["x"] == b["x"]).all()
            assert (a["parts"] is None) == (b["parts"] is None)
    assert "reason" in on_ray[5] and "reason" in on_ray[6] and "reason" not in on_ray[7]
    assert info["chunks"] == -(-len(named) // 8) and info["nodes_used"] == info["nodes"] == 1
    assert seen[-1] == (len(named), len(named)) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_evaluate_images_on_ray_reports_what_the_pool_reports(local_ray):
    from mnist_core.models import loading

    model = loading.load("default", REPO / "models")
    named = _named()
    a = reading.evaluate_images(model, named, on_ray=True)
    b = reading.evaluate_images(model, named, parallel=False)
    assert "decoded on Ray (local): 2 chunk(s) on 1 of 1 node(s)" in reading.format_report(a)
    assert a.ray == {"address": "local", "nodes": 1, "nodes_used": 1, "chunks": 2} and b.ray is None
    same = {"seconds": 0, "ray": None}  # all but how long it took and where
    assert a.to_json() | same == b.to_json() | same and len(a.skipped) == 2
