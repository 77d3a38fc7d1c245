"""`python -m mnist_core predict` prints its answer and nothing else (TensorFlow's C++ lines only with --verbose)."""

import os
import platform
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.hostile.digits import digit_image, encode

pytestmark = pytest.mark.slow  # each call starts Python and imports TensorFlow


def cli(*args):
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(REPO / "models")}  # the shipped Keras `default` model
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as in a user's shell
    return subprocess.run([sys.executable, "-m", "mnist_core", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("quiet") / "seven.png"
    path.write_bytes(encode(digit_image(7)))
    return path


def test_predict_prints_its_answer_and_nothing_else(photo):
    proc = cli("predict", str(photo))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith(f"{photo}: 7 ") and proc.stdout.count("\n") == 1


def test_errors_stay_one_line(photo):
    proc = cli("predict", str(photo), "--model", "ghost")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "ghost" in lines[0]


def test_verbose_lets_tensorflow_speak(photo):
    before, after = cli("--verbose", "predict", str(photo)), cli("predict", str(photo), "--verbose")
    for proc in (before, after):
        assert proc.returncode == 0 and proc.stdout.startswith(f"{photo}: 7 ")
        if platform.machine() in ("x86_64", "AMD64"):  # TensorFlow's oneDNN notice is printed on x86 CPUs
            assert "oneDNN" in proc.stderr
