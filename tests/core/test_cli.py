import json
import os
import subprocess
import sys

import pytest

from mnist_core.models import store
from mnist_core.models.numpy_nets import NumpyNet
from tests.conftest import REPO


def cli(*args, env=None, check=True):
    proc = subprocess.run([sys.executable, "-m", "mnist_core", *args], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **(env or {})}, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    env = {"MNIST_STUDIO_MODELS": str(tmp_path / "models"), "MNIST_STUDIO_RUNS": str(tmp_path / "runs")}
    for key, value in env.items():  # some tests read the store in-process too
        monkeypatch.setenv(key, value)
    return env


def test_train_json_then_models_runs_evaluate(dirs):
    out = cli("train", "--model", "softmax", "--epochs", "1", "--train-subset", "2000", "--name", "tiny",
              "--seed", "3", "--json", env=dirs)
    result = json.loads(out.stdout)
    assert {"name", "test_accuracy", "train_seconds", "epochs", "params"} <= set(result)
    assert result["name"] == "tiny" and result["epochs"] == 1 and result["params"] == 7850
    assert result["test_accuracy"] > 0.6
    listed = json.loads(cli("models", "--json", env=dirs).stdout)
    assert [m["name"] for m in listed] == ["tiny"]
    runs = json.loads(cli("runs", "--json", env=dirs).stdout)
    assert runs[0]["state"] == "completed" and runs[0]["name"] == "tiny"
    report = json.loads(cli("evaluate", "--model", "tiny", "--json", env=dirs).stdout)
    assert report["accuracy"] == pytest.approx(result["test_accuracy"]) and report["n"] == 10000
    text = cli("evaluate", "--model", "tiny", env=dirs).stdout
    assert "confusion matrix" in text and "95% CI" in text
    cli("delete", "tiny", env=dirs)
    assert "no saved models" in cli("models", env=dirs).stdout


@pytest.mark.parametrize("args, needle", [
    (["evaluate", "--model", "ghost"], "no model named 'ghost'"),
    (["evaluate", "--model", "../x"], "invalid model name"),
    (["train", "--model", "mlp", "--epochs", "0"], "epochs must be"),
    (["train", "--model", "mlp", "--name", "Bad!"], "invalid model name"),
    (["train"], "--model is required"),
    (["stop", "no-such-run"], "no run 'no-such-run'"),
])
def test_user_errors_are_one_clear_line(dirs, args, needle):
    proc = cli(*args, env=dirs, check=False)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


def test_corrupt_model_is_reported(dirs):
    store.save("numpy-one", NumpyNet((784, 10)), {"kind": "numpy_softmax", "backend": "numpy"})
    (store.model_dir("numpy-one") / "model.npz").write_bytes(b"junk")
    proc = cli("evaluate", "--model", "numpy-one", env=dirs, check=False)
    assert proc.returncode == 2 and "could not be loaded" in proc.stderr


def test_train_again_from_a_saved_recipe(dirs):
    first = json.loads(cli("train", "--model", "softmax", "--epochs", "1", "--train-subset", "2000", "--name", "tiny",
                           "--seed", "3", "--json", env=dirs).stdout)
    card = os.path.join(dirs["MNIST_STUDIO_MODELS"], "tiny", "card.json")
    again = json.loads(cli("train", "--config", card, "--name", "again", "--json", env=dirs).stdout)
    assert again["test_accuracy"] == first["test_accuracy"]  # same recipe, same seed: the same model
    saved = {name: store.read(name)["config"] for name in ("tiny", "again")}
    assert {**saved["tiny"], "name": "again"} == saved["again"]
    other = json.loads(cli("train", "--config", card, "--seed", "4", "--name", "seed4", "--json", env=dirs).stdout)
    assert store.read("seed4")["config"]["seed"] == 4 and other["test_accuracy"] != first["test_accuracy"]


@pytest.mark.parametrize("content, needle", [
    (None, "no file"), ("{not json", "is not a TrainConfig JSON"), ('{"model": "cnn", "colour": 3}', "unknown config keys"),
    ('{"model": "cnn", "epochs": 0}', "epochs must be"), ('{"model": "cnn"}', "contradicts --config"),
])
def test_a_bad_recipe_file_is_one_clear_line(dirs, tmp_path, content, needle):
    path = tmp_path / "recipe.json"
    if content is not None:
        path.write_text(content)
    extra = ["--model", "mlp"] if needle == "contradicts --config" else []
    proc = cli("train", "--config", str(path), *extra, env=dirs, check=False)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
