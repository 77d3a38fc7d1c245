"""NumPy nets: details found by `make mutation` after test_numpy_nets_exact.py: a stable softmax per row,
the log's guard against a zero probability, float32 outputs, batch accuracy per row, loading refuses
pickles, a loaded net trains, the default seed and the shapes task's output size."""

import numpy as np
import pytest

from mnist_core.models import numpy_nets
from mnist_core.models.numpy_nets import NumpyNet
from mnist_core.tasks import class_names
from mnist_core.training.config import TrainConfig


def _hand_net(dtype=np.float64):
    net = NumpyNet((2, 2, 2), dtype=dtype)
    net.weights = [np.array([[1.0, -1.0], [2.0, 1.0]], dtype), np.array([[1.0, 0.0], [0.0, 1.0]], dtype)]
    net.biases = [np.array([0.0, -2.0], dtype), np.array([0.5, 0.0], dtype)]
    net._velocity = [np.zeros_like(p) for p in net.params()]
    return net


def test_softmax_is_stable_for_huge_logits_row_by_row():
    # logits [3000.5, 0] and [0.5, 0]: subtracting each row's own maximum keeps exp() finite, and the
    # second row's sum nonzero (the batch's maximum would underflow it to 0 / 0)
    probs, _ = _hand_net().forward(np.array([[1000.0, 1000.0], [0.0, 0.0]]))
    q = 1 / (1 + np.exp(-0.5))
    assert np.allclose(probs, [[1.0, 0.0], [q, 1 - q]], rtol=1e-12, atol=0)


def test_a_zero_probability_costs_log_1e12_not_nan():
    net = _hand_net()
    x, y = np.array([[1000.0, 1000.0]]), np.array([1])  # logits [3000.5, 0]: p(1) underflows to 0
    assert net.forward(x)[0][0, 1] == 0.0
    assert net.loss(x, y) == pytest.approx(-np.log(1e-12), rel=1e-12)
    assert net.gradients(x, y)[0] == pytest.approx(-np.log(1e-12), rel=1e-12)


def test_probabilities_are_float32_whatever_the_input_dtype():
    net = NumpyNet((4, 3), seed=0)
    for x in (np.ones((2, 4), np.float64), np.ones((2, 4), np.uint8)):
        probs, acts = net.forward(x)
        assert probs.dtype == np.float32 and acts[0].dtype == np.float32


def test_accuracy_counts_each_row():
    # probabilities: row 0 favours class 0 a little, row 1 much more; the largest entry overall is row 1's
    _, acc = _hand_net().train_step(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 0]), lr=0.0)
    assert acc == 1.0


def test_default_seed_is_zero():
    assert np.array_equal(NumpyNet((5, 4, 3)).weights[0], NumpyNet((5, 4, 3), seed=0).weights[0])


def test_load_refuses_pickled_arrays(tmp_path):
    net = NumpyNet((6, 3), seed=2)
    with open(tmp_path / "pickled.npz", "wb") as fh:
        np.savez(fh, sizes=np.array([6, 3], dtype=object), p0=net.weights[0], p1=net.biases[0])
    with pytest.raises(ValueError, match="allow_pickle"):
        NumpyNet.load(tmp_path / "pickled.npz")


def test_load_message_and_a_loaded_net_trains_like_a_fresh_one(tmp_path):
    net = NumpyNet((6, 4, 3), seed=2)
    net.save(tmp_path / "n.npz")
    back = NumpyNet.load(tmp_path / "n.npz")
    assert [v.shape for v in back._velocity] == [p.shape for p in net.params()]
    x, y = np.ones((2, 6), np.float32), np.array([0, 1])
    assert back.train_step(x, y, lr=0.1) == net.train_step(x, y, lr=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(net.params(), back.params()))
    arrays = {f"p{i}": p for i, p in enumerate(net.params())}
    arrays["p0"] = np.zeros((4, 6), np.float32)
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, sizes=np.array((6, 4, 3)), **arrays)
    with pytest.raises(ValueError) as info:
        NumpyNet.load(tmp_path / "bad.npz")
    assert str(info.value) == "parameter shapes do not match the stored layer sizes"


def test_build_sizes_the_output_for_the_task():
    net = numpy_nets.build(TrainConfig(model="numpy_softmax", task="shapes"))
    assert net.sizes == (784, len(class_names("shapes"))) and len(class_names("shapes")) != 10
