"""The embedding map: each point is the row it claims to be, placed by that row's own features."""

import numpy as np
import pytest

from mnist_core.analysis import embedding
from mnist_core.models import loading, numpy_nets


@pytest.fixture(scope="module")
def lenet():
    from mnist_core.models import zoo
    from mnist_core.training.config import TrainConfig

    return loading.LoadedModel("lenet", {}, zoo.build(TrainConfig.for_model("lenet5")), "keras")


def test_each_point_is_the_row_it_claims(lenet, tiny_splits):
    x, y = tiny_splits.x_test, tiny_splits.y_test
    emb = embedding.embedding_map(lenet, x, y, n=60, seed=3)
    rows = emb["rows"]
    assert len(rows) == 60 == len(set(rows.tolist())) and emb["xy"].shape == (60, 2)
    for k in (0, 17, 59):  # pick a point, check its image: alone, it lands where the map put it
        alone = embedding.features(lenet, x[rows[k]][None])
        np.testing.assert_allclose(emb["projection"].apply(alone)[0], emb["xy"][k], rtol=1e-4, atol=1e-4)
        assert emb["label"][k] == y[rows[k]]
        assert emb["pred"][k] == lenet.predict(x[rows[k]][None])[0]
    assert emb["dims"] == lenet.net.layers[-1].input.shape[-1]  # the input of the classifier layer
    assert 0 < sum(emb["explained"]) <= 1
    np.testing.assert_allclose(emb["xy"].mean(axis=0), 0, atol=1e-3)  # PCA: centred, widest axis first
    assert emb["xy"][:, 0].var() >= emb["xy"][:, 1].var()
    again = embedding.embedding_map(lenet, x, y, n=60, seed=3)
    np.testing.assert_array_equal(again["rows"], rows)
    np.testing.assert_allclose(again["xy"], emb["xy"], atol=1e-5)


def test_numpy_nets_use_their_last_hidden_layer(tiny_splits):
    x, y = tiny_splits.x_test, tiny_splits.y_test
    mlp = loading.LoadedModel("mlp", {}, numpy_nets.NumpyNet((784, 24, 10)), "numpy")
    assert embedding.features(mlp, x[:5]).shape == (5, 24)
    assert "last hidden layer" in embedding.source_of(mlp)
    softmax = loading.LoadedModel("sm", {}, numpy_nets.NumpyNet((784, 10)), "numpy")
    np.testing.assert_allclose(embedding.features(softmax, x[:3]), x[:3].reshape(3, 784))
    emb = embedding.embedding_map(mlp, x, y, n=30)
    k = 11
    alone = embedding.features(mlp, x[emb["rows"][k]][None])
    np.testing.assert_allclose(emb["projection"].apply(alone)[0], emb["xy"][k], rtol=1e-4, atol=1e-4)


def _blobs(n_per=40, d=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (3, d))
    x = np.concatenate([c + rng.normal(0, 1, (n_per, d)) for c in centres])
    return x, np.repeat(np.arange(3), n_per)


def _knn_agreement(xy, y, k=5):
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return (y[np.argsort(d, axis=1)[:, :k]] == y[:, None]).mean()


def test_tsne_keeps_clusters_apart_and_is_seeded():
    x, y = _blobs()
    xy = embedding.tsne(x, perplexity=10, seed=1)
    assert xy.shape == (120, 2) and np.isfinite(xy).all()
    assert _knn_agreement(xy, y) == 1.0
    np.testing.assert_array_equal(xy, embedding.tsne(x, perplexity=10, seed=1))
    np.testing.assert_allclose(xy.mean(axis=0), 0, atol=1e-6)


def test_tsne_affinities_have_the_asked_perplexity():
    x, _ = _blobs(n_per=30)
    d = embedding._squared_distances(x)
    _, entropy = embedding._conditional(d, embedding._widths(d, 12.0))
    np.testing.assert_allclose(entropy, np.log(12.0), atol=1e-3)
    p = embedding._joint_p(d, 12.0)
    np.testing.assert_allclose(p, p.T)
    assert p.sum() == pytest.approx(1.0, abs=1e-6) and (np.diag(p) <= 1e-12).all()


def test_own_handwriting_lands_on_the_same_map(lenet, tiny_splits):
    x, y = tiny_splits.x_test, tiny_splits.y_test
    own = (x[:4], y[:4])
    emb = embedding.embedding_map(lenet, x, y, n=30, seed=0, own=own)
    np.testing.assert_allclose(emb["own"]["xy"], emb["projection"].apply(embedding.features(lenet, x[:4])),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(emb["own"]["label"], y[:4])
    np.testing.assert_array_equal(emb["own"]["pred"], lenet.predict(x[:4]))
    t = embedding.embedding_map(lenet, x, y, n=30, seed=0, method="t-SNE", own=own)
    assert t["xy"].shape == (30, 2) and t["own"]["xy"].shape == (4, 2) and t["method"] == "t-SNE"
    with pytest.raises(ValueError, match="PCA or t-SNE"):
        embedding.embedding_map(lenet, x, y, n=30, method="umap")
