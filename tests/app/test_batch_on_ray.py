"""Batch with a Ray cluster configured: a toggle decodes on it, and a cluster that does not answer is explained."""

import socket

from mnist_core import cluster
from tests.fixtures import HANDWRITING

from .conftest import open_page, texts


def _dead_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends: nothing listens there


def test_no_cluster_no_toggle(store, monkeypatch):
    monkeypatch.delenv(cluster.ADDRESS_ENV, raising=False)
    at = open_page("batch")
    assert not at.exception and not [t for t in at.toggle if t.key == "batch_on_ray"]


def test_a_cluster_that_does_not_answer_is_explained_and_can_be_turned_off(store, monkeypatch):
    address = _dead_address()
    monkeypatch.setenv(cluster.ADDRESS_ENV, address)
    at = open_page("batch")
    toggle = at.toggle(key="batch_on_ray")
    assert toggle.value is True and address in toggle.label
    photo = next(HANDWRITING.rglob("*.jpg"))
    at.file_uploader(key="batch_files").set_value(("7_photo.jpg", photo.read_bytes(), "image/jpeg")).run()
    assert not at.exception
    assert any(f"no Ray cluster answers at '{address}'" in e.value and "Turn off" in e.value for e in at.error)
    at.toggle(key="batch_on_ray").set_value(False).run()
    assert not at.exception and not at.error
    assert "Correct: " in texts(at)
