"""explain: conv filters, feature maps and saliency on tiny untrained models."""

import numpy as np
import pytest

from mnist_core.analysis import explain
from mnist_core.models.numpy_nets import NumpyNet


@pytest.fixture(scope="module")
def conv_net():
    import keras
    from keras import layers

    keras.utils.set_random_seed(1)
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(3, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(4, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


@pytest.fixture(scope="module")
def dense_net():
    import keras
    from keras import layers

    keras.utils.set_random_seed(2)
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(inputs)))


@pytest.fixture
def image():
    return np.random.default_rng(0).random((28, 28, 1), dtype=np.float32)


def test_conv_layers_and_filters(conv_net, dense_net):
    assert [layer.name for layer in explain.conv_layers(conv_net)] == [f["name"] for f in explain.conv_filters(conv_net)]
    shapes = [f["weights"].shape for f in explain.conv_filters(conv_net)]
    assert shapes == [(3, 3, 1, 3), (3, 3, 3, 4)]
    assert explain.conv_layers(dense_net) == []
    assert explain.conv_layers(NumpyNet((784, 10))) == []


def test_montage_places_tiles_and_pads_with_nan():
    tiles = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    grid = explain.montage(tiles, cols=2, pad=1)
    assert grid.shape == (5, 5)
    np.testing.assert_array_equal(grid[:2, :2], tiles[0])
    np.testing.assert_array_equal(grid[:2, 3:], tiles[1])
    np.testing.assert_array_equal(grid[3:, :2], tiles[2])
    assert np.isnan(grid[2]).all() and np.isnan(grid[3:, 3:]).all()


def test_filter_grid_layouts():
    first = np.random.default_rng(0).random((5, 5, 1, 6)).astype(np.float32)
    assert explain.filter_grid(first).shape == (2 * 6 - 1, 3 * 6 - 1)  # 6 filters in a 3-wide grid
    deep = np.random.default_rng(0).random((3, 3, 2, 4)).astype(np.float32)
    grid = explain.filter_grid(deep)
    assert grid.shape == (2 * 4 - 1, 4 * 4 - 1)  # rows: inputs, columns: outputs
    np.testing.assert_array_equal(grid[4:7, 8:11], deep[:, :, 1, 2])


def test_feature_maps_follow_each_conv_block(conv_net, image):
    maps = explain.feature_maps(conv_net, image)
    assert [m["maps"].shape for m in maps] == [(26, 26, 3), (11, 11, 4)]
    assert all((m["maps"] >= 0).all() for m in maps)  # read after the ReLU, not before
    grid = explain.maps_grid(maps[0]["maps"])
    assert grid.shape == (2 * 27 - 1, 2 * 27 - 1)
    assert np.nanmax(grid) == pytest.approx(1.0)


def test_no_feature_maps_without_convs(dense_net, image):
    assert explain.feature_maps(dense_net, image) == []
    assert explain.feature_maps(NumpyNet((784, 10)), image) == []


def test_saliency_of_linear_models_is_the_class_weights(dense_net, image):
    result = explain.saliency(dense_net, image)
    kernel = np.asarray(dense_net.layers[-1].kernel)
    np.testing.assert_allclose(result["gradient"].ravel(), kernel[:, result["prediction"]], rtol=1e-4, atol=1e-6)
    net = NumpyNet((784, 10), seed=3)
    result = explain.saliency(net, image)
    np.testing.assert_allclose(result["gradient"].ravel(), net.weights[0][:, result["prediction"]], rtol=1e-5)
    assert result["prediction"] == int(net.predict_proba(image[None]).argmax())


class _Pair:
    """Ensemble-shaped: members and averaged probabilities, like ensemble.Ensemble."""

    def __init__(self, *nets):
        self.members = list(nets)

    def predict_proba(self, x):
        return np.mean([m.predict_proba(x) for m in self.members], axis=0)


def test_saliency_of_an_ensemble_averages_its_members_gradients(image):
    a, b = NumpyNet((784, 10), seed=5), NumpyNet((784, 10), seed=6)
    pair = _Pair(a, b)
    result = explain.saliency(pair, image)
    target = int(pair.predict_proba(image[None]).argmax())
    assert result["prediction"] == target
    expected = (a.weights[0][:, target] + b.weights[0][:, target]) / 2
    np.testing.assert_allclose(result["gradient"].ravel(), expected, rtol=1e-5)


def _numeric_logit_grad(logit, x, target, pixels, eps=1e-2):
    grads = []
    for r, c in pixels:
        up, down = x.copy(), x.copy()
        up[r, c, 0] += eps
        down[r, c, 0] -= eps
        grads.append((logit(up)[target] - logit(down)[target]) / (2 * eps))
    return np.array(grads)


def test_saliency_matches_finite_differences_for_an_mlp(image):
    net = NumpyNet((784, 32, 16, 10), seed=4, dtype=np.float64)
    result = explain.saliency(net, image)
    pixels = [(14, 14), (3, 20), (27, 0), (10, 9)]
    numeric = _numeric_logit_grad(lambda x: net.forward(x[None])[1][-1][0], image.astype(np.float64),
                                  result["prediction"], pixels, eps=1e-4)
    np.testing.assert_allclose([result["gradient"][r, c] for r, c in pixels], numeric, rtol=1e-3, atol=1e-6)
    assert result["map"].max() == pytest.approx(1.0) and result["map"].min() >= 0


def test_saliency_of_a_conv_net_uses_the_logit(conv_net, image):
    import keras

    result = explain.saliency(conv_net, image)
    assert result["gradient"].shape == (28, 28)
    last = conv_net.layers[-1]
    features = keras.Model(conv_net.inputs[0], last.input)

    def logit(x):
        return np.asarray(features(x[None].astype(np.float32), training=False))[0] @ np.asarray(last.kernel) \
            + np.asarray(last.bias)

    pixels = [(14, 14), (5, 22), (20, 8)]
    numeric = _numeric_logit_grad(logit, image, result["prediction"], pixels, eps=1e-2)
    np.testing.assert_allclose([result["gradient"][r, c] for r, c in pixels], numeric, rtol=0.05, atol=1e-4)


def test_evidence_is_the_ink_that_raised_the_score(dense_net):
    image = np.zeros((28, 28, 1), np.float32)
    image[6:22, 12:16] = 0.8  # a stroke on empty paper
    result = explain.saliency(dense_net, image)
    assert result["method"] == "evidence"
    w = np.asarray(dense_net.layers[-1].kernel)[:, result["prediction"]].reshape(28, 28)
    heat = np.maximum(w * image[..., 0], 0)
    np.testing.assert_allclose(result["map"], heat / heat.max(), rtol=1e-4, atol=1e-6)
    assert not result["map"][image[..., 0] == 0].any(), "empty paper is never evidence"
    plain = explain.saliency(dense_net, image, method="gradient")
    assert plain["map"][image[..., 0] == 0].max() > 0.1  # what users saw: the gradient lights the background


def test_smoothgrad_of_a_linear_model_is_its_weights_and_is_seeded(image):
    net = NumpyNet((784, 10), seed=3)
    result = explain.saliency(net, image, method="smoothgrad")
    w = np.abs(net.weights[0][:, result["prediction"]]).reshape(28, 28)
    np.testing.assert_allclose(result["map"], w / w.max(), rtol=1e-4)  # noise does not move a linear gradient
    mlp = NumpyNet((784, 32, 10), seed=4)
    a, b = (explain.saliency(mlp, image, method="smoothgrad", seed=s)["map"] for s in (0, 0))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, explain.saliency(mlp, image, method="gradient")["map"], atol=1e-3)


def test_unknown_saliency_method_is_refused(dense_net, image):
    with pytest.raises(explain.ExplainError, match="evidence, smoothgrad, gradient"):
        explain.saliency(dense_net, image, method="lime")


def test_saliency_rejects_wrong_shapes(dense_net):
    with pytest.raises(explain.ExplainError, match="28x28"):
        explain.saliency(dense_net, np.zeros((10, 10)))


def test_confusion_examples_sorted_by_confidence():
    y_true = np.array([3, 3, 3, 5, 3])
    y_pred = np.array([5, 5, 3, 5, 5])
    conf = np.array([0.6, 0.9, 0.99, 0.8, 0.7])
    assert explain.confusion_examples(y_true, y_pred, 3, 5, conf).tolist() == [1, 4, 0]
    assert explain.confusion_examples(y_true, y_pred, 3, 5, conf, limit=1).tolist() == [1]
    assert explain.confusion_examples(y_true, y_pred, 7, 1).tolist() == []


def test_layers_are_named_by_what_they_are(conv_net):
    titles = list(explain.layer_titles(conv_net).values())
    assert titles == ["conv 1: 3 filters 3x3", "conv 2: 4 filters 3x3"]
    assert [f["title"] for f in explain.conv_filters(conv_net)] == titles
    import keras

    strided = keras.layers.Conv2D(8, 5, strides=2)
    assert explain.layer_title(strided, 3) == "conv 3: 8 filters 5x5, stride 2"


def test_feature_maps_carry_the_readable_titles(conv_net, image):
    assert [m["title"] for m in explain.feature_maps(conv_net, image)] == ["conv 1: 3 filters 3x3",
                                                                            "conv 2: 4 filters 3x3"]


def test_deep_layers_show_their_most_active_channels():
    maps = np.zeros((7, 7, 40), np.float32)
    maps[..., 5], maps[..., 17], maps[..., 30] = 3.0, 2.0, 1.0
    assert list(explain.most_active(maps, 3)) == [5, 17, 30]
    view = explain.layer_view({"name": "conv2d_9", "title": "conv 4: 40 filters 3x3", "maps": maps}, limit=16)
    assert view["total"] == 40 and len(view["channels"]) == 16 and list(view["channels"][:3]) == [5, 17, 30]
    assert view["title"] == "conv 4: 40 filters 3x3 · the 16 most active of 40 maps, 7x7 each" and view["kind"] == "maps"
    grid = explain.maps_grid(maps, channels=view["channels"][:4])
    assert grid.shape == (2 * 8 - 1, 2 * 8 - 1) and np.nanmax(grid) == pytest.approx(1.0)


def test_few_channels_all_shown_and_tiny_maps_as_bars():
    small = explain.layer_view({"name": "c", "maps": np.ones((26, 26, 6), np.float32)}, limit=16)
    assert list(small["channels"]) == list(range(6)) and small["title"] == "c · all 6 maps, 26x26 each"
    dots = explain.layer_view({"name": "c", "title": "conv 7: 64 filters 3x3",
                               "maps": np.random.default_rng(0).random((1, 1, 64))}, limit=8)
    assert dots["kind"] == "bars" and len(dots["values"]) == 8
    assert np.all(np.diff(dots["values"]) <= 0)  # most active first
