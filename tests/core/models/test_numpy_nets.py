import numpy as np
import pytest

from mnist_core.models.numpy_nets import NumpyNet


@pytest.mark.parametrize("sizes", [(12, 5), (12, 7, 6, 5)])
def test_backprop_matches_finite_differences(sizes):
    rng = np.random.default_rng(3)
    net = NumpyNet(sizes, seed=1, dtype=np.float64)
    x = rng.normal(size=(8, sizes[0]))
    y = rng.integers(0, sizes[-1], 8)
    _, _, grads = net.gradients(x, y)
    eps = 1e-6
    for param, grad in zip(net.params(), grads):
        for idx in [tuple(rng.integers(0, s) for s in param.shape) for _ in range(6)]:
            old = param[idx]
            param[idx] = old + eps
            up = net.loss(x, y)
            param[idx] = old - eps
            down = net.loss(x, y)
            param[idx] = old
            numeric = (up - down) / (2 * eps)
            assert abs(numeric - grad[idx]) <= 1e-6 + 1e-4 * abs(numeric), (sizes, idx)


def test_learns_synthetic_digits(tiny_splits):
    net = NumpyNet((784, 32, 10), seed=0)
    x, y = tiny_splits.x_train.reshape(500, -1), tiny_splits.y_train
    before = net.loss(x, y)
    for _ in range(30):
        for i in range(0, 500, 50):
            net.train_step(x[i:i + 50], y[i:i + 50], lr=0.05)
    assert net.loss(x, y) < before / 5
    assert (net.predict_proba(tiny_splits.x_test).argmax(1) == tiny_splits.y_test).mean() > 0.9


def test_save_load_round_trip(tmp_path):
    net = NumpyNet((784, 16, 10), seed=4)
    net.save(tmp_path / "n.npz")
    back = NumpyNet.load(tmp_path / "n.npz")
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    assert np.allclose(net.predict_proba(x), back.predict_proba(x))
    assert back.count_params() == 784 * 16 + 16 + 16 * 10 + 10
