"""Connecting to Ray: an address that does not answer fails at once with a message saying what to do."""

import socket
from pathlib import Path

import pytest

from mnist_core import cluster


def test_a_port_nobody_listens_on_is_refused_with_advice():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    with pytest.raises(cluster.ClusterError, match=r"no Ray cluster answers at '127.0.0.1:\d+'.*ray start --head"):
        cluster._check_reachable(f"127.0.0.1:{port}")


def test_a_listening_port_and_names_ray_resolves_pass_the_check():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        cluster._check_reachable(f"127.0.0.1:{s.getsockname()[1]}")
    cluster._check_reachable("auto")


def test_the_address_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(cluster.ADDRESS_ENV, raising=False)
    assert cluster.address_from_env() is None
    assert cluster.address_from_env("local") is None
    monkeypatch.setenv(cluster.ADDRESS_ENV, "10.0.0.1:6379")
    assert cluster.address_from_env() == "10.0.0.1:6379"
    assert cluster.address_from_env("127.0.0.1:7000") == "127.0.0.1:7000"
    monkeypatch.setenv(cluster.ADDRESS_ENV, "local")
    assert cluster.address_from_env() is None


def test_the_cli_refuses_ray_without_images_and_a_dead_cluster(capsys, tmp_path, monkeypatch):
    from mnist_core.cli import main

    monkeypatch.setenv("MNIST_STUDIO_MODELS", str(Path(__file__).resolve().parents[2] / "models"))
    assert main(["evaluate", "--ray"]) == 2
    assert "--ray decodes a folder or ZIP of images on Ray" in capsys.readouterr().err
    (tmp_path / "7").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["evaluate", "--images", str(tmp_path), "--ray", f"127.0.0.1:{port}"]) == 2
    assert "no Ray cluster answers" in capsys.readouterr().err
