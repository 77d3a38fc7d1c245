"""oneDNN is asked for by the project's entry points (CLI, dashboard, Ray workers) unless the user said
otherwise (issue 24 §2: it measured faster on the CPUs where TensorFlow leaves it off)."""

import os
from pathlib import Path

import pytest

from mnist_core import cluster, cpu_env


def test_oneDNN_is_asked_for_when_nobody_said(monkeypatch):
    env = {}
    cpu_env.prefer_onednn(env)
    assert env == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    env = {"TF_ENABLE_ONEDNN_OPTS": " "}  # set but empty reads as unset to TensorFlow too
    cpu_env.prefer_onednn(env)
    assert env["TF_ENABLE_ONEDNN_OPTS"] == "1"


@pytest.mark.parametrize("users", ["0", "1"])
def test_the_users_own_setting_wins(users, monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", users)
    cpu_env.prefer_onednn()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == users
    assert cpu_env.tensorflow_env() == {"TF_ENABLE_ONEDNN_OPTS": users}


def test_the_cli_asks_before_any_command_runs(monkeypatch):
    from mnist_core import cli

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


def test_ray_workers_start_with_it(monkeypatch):
    seen = {}

    class FakeRay:
        def init(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    cluster._init(FakeRay(), None)
    assert seen["runtime_env"]["env_vars"]["TF_ENABLE_ONEDNN_OPTS"] == "1"


def test_the_dashboard_asks_before_its_pages_run():
    app = (Path(__file__).resolve().parents[2] / "app.py").read_text()
    assert "prefer_onednn()" in app.split("def ", 1)[0]  # at import, before main() routes to any page
