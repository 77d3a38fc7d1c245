"""Test-time augmentation: exact shifts, exact averaging, and the CLI option."""

import json

import numpy as np
import pytest

from mnist_core import cli
from mnist_core.models import loading, store
from mnist_core.models.numpy_nets import NumpyNet
from mnist_core.models.tta import SHIFTS, ShiftAveraged, shift


def test_shift_moves_ink_and_lets_background_in():
    x = np.zeros((1, 4, 5, 1), np.float32)
    x[0, 0, 0, 0], x[0, 3, 4, 0], x[0, 1, 2, 0] = 1, 2, 3
    down_right = shift(x, 1, 1)[0, ..., 0]
    expected = np.zeros((4, 5), np.float32)
    expected[1, 1], expected[2, 3] = 1, 3  # the 2 in the corner left the image: nothing wraps round
    np.testing.assert_array_equal(down_right, expected)
    up_left = shift(x, -1, -1)[0, ..., 0]
    assert up_left[2, 3] == 2 and up_left[0, 1] == 3 and up_left.sum() == 5
    np.testing.assert_array_equal(shift(x, 0, 0), x)


def test_probabilities_are_the_mean_over_the_five_shifts(store_root):
    net = NumpyNet((784, 10), seed=3)
    store.save("m", net, {"kind": "numpy_softmax", "backend": "numpy"})
    model = loading.load("m")
    x = np.random.default_rng(1).random((7, 28, 28, 1)).astype(np.float32)
    expected = np.mean([net.predict_proba(shift(x, dy, dx)) for dy, dx in SHIFTS], axis=0)
    for batch_size in (2048, 5, 12):  # chunking must not change the answer
        got = ShiftAveraged(model).predict_proba(x, batch_size=batch_size)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    tta = ShiftAveraged(model)
    assert tta.name == "m + TTA" and tta.card["tta"]["shifts"][1] == [1, 0] and tta.task == "digits"
    assert tta.predict(x).tolist() == expected.argmax(1).tolist()
    assert ShiftAveraged(model, shifts=((0, 0),)).predict_proba(x) == pytest.approx(net.predict_proba(x), rel=1e-6)


def test_evaluate_tta_on_the_cli(store_root, capsys):
    store.save("m", NumpyNet((784, 10), seed=3), {"kind": "numpy_softmax", "backend": "numpy"})
    assert cli.main(["evaluate", "--model", "m", "--tta", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tta"] is True and report["n"] == 10000
    assert cli.main(["evaluate", "--model", "m", "--tta", "--images", "x"]) == 2
    assert "--tta is for the MNIST" in capsys.readouterr().err
