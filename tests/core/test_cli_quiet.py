"""`python -m mnist_core predict` prints its answer and nothing else (TensorFlow's C++ lines only with --verbose)."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.hostile.digits import digit_image, encode

pytestmark = pytest.mark.slow  # each call starts Python and imports TensorFlow


def cli(*args, env: dict | None = None):
    env = {**os.environ, "MNIST_STUDIO_MODELS": str(REPO / "models"), **(env or {})}  # the shipped Keras `default`
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


# A line of TensorFlow's C++ logging (absl): "I0000 00:00:1796607716.026773    4001 port.cc:153] oneDNN ..."
# or "2024-01-01 12:00:00.000000: I tensorflow/core/...cc:42] ...", and absl's own notice before its set-up.
TF_LINE = re.compile(r"^(?:[IWEF]\d{4} [\d:.]+ +\d+ |\d{4}-\d\d-\d\d [\d:.]+: [IWEF] )(\S+:\d+)\] (.*)$")
ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# TensorFlow's start-up lines differ by CPU (the oneDNN notice only where it turns oneDNN on, the
# cpu_feature_guard line only where the CPU has instructions the build does not use). This asks one
# XLA module for its few start-up lines too, so TensorFlow says something on every CPU.
SPEAK = {"TF_CPP_VMODULE": "parse_flags_from_env=1"}


def tf_lines(stderr: str) -> set:
    """TensorFlow's C++ log lines as (source:line, message): without the time and thread id."""
    return {m.groups() for m in map(TF_LINE.match, stderr.splitlines()) if m}


def test_verbose_lets_tensorflow_speak(photo):
    """What TensorFlow alone prints at start-up on this CPU, --verbose lets through and the default hides."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    alone = subprocess.run([sys.executable, "-c", "import tensorflow as tf; print(int(tf.constant(1) + 1))"],
                           capture_output=True, text=True, cwd=REPO, env={**env, **SPEAK}, timeout=300)
    assert alone.returncode == 0 and alone.stdout == "2\n", alone.stderr
    own = tf_lines(alone.stderr)
    assert own, f"TensorFlow printed no log line at start-up:\n{alone.stderr}"
    quiet = cli("predict", str(photo), env=SPEAK)
    assert quiet.returncode == 0 and quiet.stdout.startswith(f"{photo}: 7 ")
    assert quiet.stderr == ""
    for proc in (cli("--verbose", "predict", str(photo), env=SPEAK), cli("predict", str(photo), "--verbose", env=SPEAK)):
        assert proc.returncode == 0 and proc.stdout.startswith(f"{photo}: 7 ")
        assert own <= tf_lines(proc.stderr), proc.stderr  # every start-up line TensorFlow has on this CPU
        assert (ABSL_NOTICE in proc.stderr) == (ABSL_NOTICE in alone.stderr)
