"""NumPy nets pinned by hand-computed values (found by `make mutation`): initialisation scales,
one forward pass, one momentum step, batching, loading checks and the zoo's build()."""

import numpy as np
import pytest

from mnist_core.models import numpy_nets
from mnist_core.models.numpy_nets import NumpyNet
from mnist_core.training.config import TrainConfig


def test_initialisation_he_for_hidden_layers_small_for_softmax():
    mlp = NumpyNet((400, 300, 10), seed=0, dtype=np.float64)
    assert mlp.weights[0].shape == (400, 300) and mlp.weights[1].shape == (300, 10)
    assert abs(mlp.weights[0].std() - np.sqrt(2 / 400)) < 0.002
    assert abs(mlp.weights[1].std() - np.sqrt(2 / 300)) < 0.01
    softmax = NumpyNet((400, 10), seed=0, dtype=np.float64)
    assert abs(softmax.weights[0].std() - 0.01) < 0.001
    assert all(not b.any() for b in mlp.biases + softmax.biases)
    assert mlp.weights[0].dtype == np.float64
    assert NumpyNet((4, 3)).weights[0].dtype == np.float32


def test_seed_fixes_the_weights():
    assert np.array_equal(NumpyNet((5, 4, 3), seed=7).weights[0], NumpyNet((5, 4, 3), seed=7).weights[0])
    assert not np.array_equal(NumpyNet((5, 4, 3), seed=7).weights[0], NumpyNet((5, 4, 3), seed=8).weights[0])


def _hand_net():
    net = NumpyNet((2, 2, 2), dtype=np.float64)
    net.weights = [np.array([[1.0, -1.0], [2.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])]
    net.biases = [np.array([0.0, -2.0]), np.array([0.5, 0.0])]
    net._velocity = [np.zeros_like(p) for p in net.params()]
    return net


def test_forward_by_hand():
    net = _hand_net()
    # hidden: relu([1+2, -1+1-2]) = [3, 0]; logits [3.5, 0]
    probs, acts = net.forward(np.array([[1.0, 1.0]]))
    assert np.allclose(acts[1], [[3.0, 0.0]]) and np.allclose(acts[2], [[3.5, 0.0]])
    assert np.allclose(probs, [[1 / (1 + np.exp(-3.5)), 1 / (1 + np.exp(3.5))]])
    assert np.isclose(net.loss(np.array([[1.0, 1.0]]), np.array([1])), np.log(1 + np.exp(3.5)))


def test_gradients_by_hand():
    net = _hand_net()
    x, y = np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([1, 0])
    loss, probs, grads = net.gradients(x, y)
    # second image: hidden relu([0, -2]) = [0, 0], logits [0.5, 0]
    p1 = 1 / (1 + np.exp(-3.5))
    q = 1 / (1 + np.exp(-0.5))
    assert np.isclose(loss, (np.log(1 + np.exp(3.5)) - np.log(q)) / 2)
    delta = np.array([[p1, -p1], [q - 1, 1 - q]]) / 2
    assert np.allclose(grads[3], delta.sum(0))
    assert np.allclose(grads[2], np.array([[3.0, 0.0], [0.0, 0.0]]).T @ delta)
    hidden_delta = (delta @ net.weights[1].T) * np.array([[1, 0], [0, 0]])
    assert np.allclose(grads[1], hidden_delta.sum(0)) and np.allclose(grads[0], x.T @ hidden_delta)


def test_momentum_step_by_hand():
    net = NumpyNet((2, 2), dtype=np.float64, momentum=0.5)
    net.weights = [np.zeros((2, 2))]
    net.biases = [np.zeros(2)]
    net._velocity = [np.zeros((2, 2)), np.zeros(2)]
    x, y = np.array([[1.0, 0.0]]), np.array([0])
    loss, acc = net.train_step(x, y, lr=0.1)
    assert np.isclose(loss, np.log(2)) and acc == 1.0  # [0.5, 0.5]: argmax takes the first, the label
    # gradient of the bias: [0.5 - 1, 0.5] -> velocity -0.1 * g
    assert np.allclose(net.biases[0], [0.05, -0.05])
    assert np.allclose(net.weights[0], [[0.05, -0.05], [0.0, 0.0]])
    net.train_step(x, y, lr=0.0)  # no new gradient: the velocity alone moves the weights, halved
    assert np.allclose(net.biases[0], [0.075, -0.075])


def test_step_reports_batch_accuracy():
    net = _hand_net()
    _, acc = net.train_step(np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]), np.array([0, 0, 1]), lr=0.0)
    assert acc == 2 / 3


def test_predict_proba_batches_and_empty_input():
    net = NumpyNet((784, 8, 10), seed=1)
    x = np.random.default_rng(0).random((10, 28, 28, 1)).astype(np.float32)
    whole = net.forward(x)[0]
    assert np.allclose(net.predict_proba(x, batch_size=3), whole) and net.predict_proba(x, batch_size=3).shape == (10, 10)
    assert np.allclose(net.predict_proba(x), whole)
    empty = net.predict_proba(np.zeros((0, 28, 28, 1), np.float32))
    assert empty.shape == (0, 10) and empty.dtype == np.float32
    assert np.allclose(net.predict_proba(x).sum(1), 1.0, atol=1e-5)


def test_load_rejects_mismatched_shapes_and_resets_velocity(tmp_path):
    net = NumpyNet((6, 4, 3), seed=2)
    net.train_step(np.ones((2, 6), np.float32), np.array([0, 1]), lr=0.1)
    net.save(tmp_path / "n.npz")
    back = NumpyNet.load(tmp_path / "n.npz")
    assert back.sizes == (6, 4, 3) and all(not v.any() for v in back._velocity)
    assert all(np.array_equal(a, b) and b.dtype == np.float32 for a, b in zip(net.params(), back.params()))
    arrays = {f"p{i}": p for i, p in enumerate(net.params())}
    arrays["p2"] = np.zeros((3, 4), np.float32)  # second weight matrix transposed
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, sizes=np.array((6, 4, 3)), **arrays)
    with pytest.raises(ValueError, match="parameter shapes do not match the stored layer sizes"):
        NumpyNet.load(tmp_path / "bad.npz")
    arrays = {f"p{i}": p for i, p in enumerate(net.params())}
    arrays["p1"] = np.zeros(5, np.float32)  # a bias of the wrong length
    with open(tmp_path / "bad2.npz", "wb") as fh:
        np.savez(fh, sizes=np.array((6, 4, 3)), **arrays)
    with pytest.raises(ValueError):
        NumpyNet.load(tmp_path / "bad2.npz")


@pytest.mark.parametrize("model, sizes, momentum", [("numpy_softmax", (784, 10), 0.0),
                                                    ("numpy_mlp", (784, 256, 128, 64, 10), 0.9)])
def test_build_uses_the_architecture_seed_and_momentum(model, sizes, momentum):
    net = numpy_nets.build(TrainConfig(model=model, seed=3))
    assert net.sizes == sizes and net.momentum == momentum
    assert np.array_equal(net.weights[0], NumpyNet(sizes, seed=3).weights[0])


def test_build_takes_sizes_from_extra():
    net = numpy_nets.build(TrainConfig(model="numpy_mlp", extra={"sizes": [784, 5, 10]}, seed=1))
    assert net.sizes == (784, 5, 10) and net.momentum == 0.9
