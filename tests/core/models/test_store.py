import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mnist_core.models import loading, store, zoo
from mnist_core.training.config import TrainConfig
from mnist_core.models.numpy_nets import NumpyNet


NUMPY = {"backend": "numpy"}


def _keras_model():
    return zoo.build(TrainConfig.for_model("softmax"))


def test_keras_round_trip_and_listing(store_root):
    net = _keras_model()
    store.save("alpha", net, {"backend": "keras", "test_accuracy": 0.5, "arr": np.float32(1.5)})
    loaded = loading.load("alpha")
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    assert np.allclose(loaded.predict_proba(x), np.asarray(net(x)), atol=1e-6)
    assert loaded.card["name"] == "alpha" and loaded.card["file"] == "model.keras" and loaded.backend == "keras"
    assert store.list_names() == ["alpha"] and store.list_models()[0]["test_accuracy"] == 0.5


def test_numpy_round_trip(store_root):
    net = NumpyNet((784, 8, 10))
    store.save("np", net, NUMPY)
    loaded = loading.load("np")
    x = np.ones((2, 28, 28, 1), np.float32)
    assert loaded.backend == "numpy" and np.allclose(loaded.predict_proba(x), net.predict_proba(x))


@pytest.mark.parametrize("name", ["", "UPPER", "../evil", "a/b", ".hidden", "x" * 65, "sp ace", None])
def test_invalid_names(store_root, name):
    with pytest.raises(store.InvalidName, match="lowercase letters"):
        store.save(name, NumpyNet((784, 10)), NUMPY)


def test_missing_model_lists_what_exists(store_root):
    store.save("exists", NumpyNet((784, 10)), NUMPY)
    with pytest.raises(store.ModelNotFound, match="no model named 'ghost'; saved models: exists"):
        loading.load("ghost")


def test_corrupt_model_file(store_root):
    store.save("broken", _keras_model(), {"backend": "keras"})
    (store_root / "broken" / "model.keras").write_bytes(b"garbage")
    with pytest.raises(store.CorruptModel, match="could not be loaded"):
        loading.load("broken")
    (store_root / "broken" / "card.json").write_text("{not json")
    with pytest.raises(store.CorruptModel, match="corrupt card.json"):
        store.read_card("broken")
    assert store.list_models() == [{"name": "broken", "error": store.list_models()[0]["error"]}]


def test_overwrite_and_delete(store_root):
    store.save("m", NumpyNet((784, 10)), {**NUMPY, "v": 1})
    store.save("m", NumpyNet((784, 10)), {**NUMPY, "v": 2})
    assert store.read_card("m")["v"] == 2
    store.delete("m")
    assert store.list_names() == [] and not any(store_root.iterdir())
    with pytest.raises(store.ModelNotFound):
        store.delete("m")


def test_failed_save_leaves_no_entry(store_root):
    class Exploding(NumpyNet):
        def save(self, path):
            open(path, "wb").write(b"half")
            raise OSError("disk full")

    store.save("keep", NumpyNet((784, 10)), {**NUMPY, "v": 1})
    with pytest.raises(OSError):
        store.save("keep", Exploding((784, 10)), {**NUMPY, "v": 2})
    with pytest.raises(OSError):
        store.save("new", Exploding((784, 10)), NUMPY)
    assert store.list_names() == ["keep"] and store.read_card("keep")["v"] == 1
    assert sorted(p.name for p in store_root.iterdir()) == ["keep"]


def test_killed_save_leaves_store_consistent(store_root):
    """SIGKILL a process that overwrites a model in a loop: the old or the new model, never half of one."""
    store.save("victim", NumpyNet((784, 10)), {"backend": "numpy", "v": 0})
    script = textwrap.dedent("""
        import sys
        from mnist_core.models import store
        from mnist_core.models.numpy_nets import NumpyNet
        i = 0
        while True:
            i += 1
            store.save("victim", NumpyNet((784, 64, 10)), {"backend": "numpy", "v": i})
            print(i, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "MNIST_STUDIO_MODELS": str(store_root)})
    for _ in range(15):
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.list_names() == ["victim"]
    loaded = loading.load("victim")
    assert loaded.card["v"] >= 15
    store.save("next", NumpyNet((784, 10)), NUMPY)  # the next writer clears what the kill left
    assert sorted(p.name for p in store_root.iterdir()) == ["next", "victim"]


def test_interrupted_overwrite_is_read_as_is_and_recovered_by_the_next_writer(store_root):
    store.save("m", NumpyNet((784, 10)), {**NUMPY, "v": 1})
    os.replace(store_root / "m", store_root / ".trash-m-abcd1234")  # killed between the two renames
    assert store.list_names() == ["m"] and store.read_card("m")["v"] == 1
    assert loading.load("m").card["v"] == 1 and store.model_file("m") == store_root / "m" / "model.npz"
    assert sorted(p.name for p in store_root.iterdir()) == [".trash-m-abcd1234"]  # readers changed nothing
    store.save("other", NumpyNet((784, 10)), NUMPY)
    assert sorted(p.name for p in store_root.iterdir()) == ["m", "other"] and store.read_card("m")["v"] == 1


def test_writers_clear_abandoned_saves_and_deletes(store_root):
    store.save("m", NumpyNet((784, 10)), NUMPY)
    for hidden in (".tmp-x-00000000", ".deleted-y-00000000"):
        (store_root / hidden).mkdir()
        (store_root / hidden / "card.json").write_text("{}")
    (store_root / ".trash-m-00000000").mkdir()  # an old copy whose overwrite finished: the new one stays
    (store_root / ".trash-m-00000000" / "card.json").write_text('{"v": "old"}')
    assert store.list_names() == ["m"]
    store.delete("m")
    assert list(store_root.iterdir()) == []


def test_save_takes_the_file_from_the_cards_backend(store_root):
    store.save("k", _keras_model(), {"backend": "keras"})
    store.save("n", NumpyNet((784, 10)), NUMPY)
    store.save("e", None, {"backend": "ensemble", "kind": "ensemble", "members": ["k", "n"]})
    assert sorted(p.name for p in (store_root / "k").iterdir()) == ["card.json", "model.keras"]
    assert sorted(p.name for p in (store_root / "n").iterdir()) == ["card.json", "model.npz"]
    assert sorted(p.name for p in (store_root / "e").iterdir()) == ["card.json"]
    assert store.model_file("k") == store_root / "k" / "model.keras"
    assert store.model_file("n") == store_root / "n" / "model.npz" and store.model_file("e") is None
    assert [store.read_card(n)["file"] for n in "ken"] == ["model.keras", None, "model.npz"]
    with pytest.raises(store.StoreError, match="backend None; a card's backend must be one of keras, numpy"):
        store.save("x", NumpyNet((784, 10)), {})
    with pytest.raises(store.StoreError, match="backend 'numpy' needs a model"):
        store.save("x", None, NUMPY)
    with pytest.raises(store.StoreError, match="backend 'ensemble' saves no model"):
        store.save("x", NumpyNet((784, 10)), {"backend": "ensemble"})
    assert store.list_names() == ["e", "k", "n"]


def test_a_card_naming_another_backend_is_a_clear_error(store_root):
    store.save("n", NumpyNet((784, 10)), NUMPY)
    card = store.read_card("n")
    (store_root / "n" / "card.json").write_text(json.dumps({**card, "backend": "keras"}))
    with pytest.raises(store.CorruptModel, match="model 'n' has no model.keras"):
        loading.load("n")
    (store_root / "n" / "card.json").write_text(json.dumps({**card, "backend": "torch"}))
    with pytest.raises(store.CorruptModel, match="backend 'torch'"):
        loading.load("n")
    with pytest.raises(store.StoreError, match="backend 'torch'"):
        store.model_file("n")
