import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mnist_core.models import store, zoo
from mnist_core.training.config import TrainConfig
from mnist_core.models.numpy_nets import NumpyNet


def _keras_model():
    return zoo.build(TrainConfig.for_model("softmax"))


def test_keras_round_trip_and_listing(store_root):
    net = _keras_model()
    store.save("alpha", net, {"test_accuracy": 0.5, "arr": np.float32(1.5)})
    loaded = store.load("alpha")
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    assert np.allclose(loaded.predict_proba(x), np.asarray(net(x)), atol=1e-6)
    assert loaded.card["name"] == "alpha" and loaded.card["file"] == "model.keras" and loaded.backend == "keras"
    assert store.list_names() == ["alpha"] and store.list_models()[0]["test_accuracy"] == 0.5


def test_numpy_round_trip(store_root):
    net = NumpyNet((784, 8, 10))
    store.save("np", net, {})
    loaded = store.load("np")
    x = np.ones((2, 28, 28, 1), np.float32)
    assert loaded.backend == "numpy" and np.allclose(loaded.predict_proba(x), net.predict_proba(x))


@pytest.mark.parametrize("name", ["", "UPPER", "../evil", "a/b", ".hidden", "x" * 65, "sp ace", None])
def test_invalid_names(store_root, name):
    with pytest.raises(store.InvalidName, match="lowercase letters"):
        store.save(name, NumpyNet((784, 10)), {})


def test_missing_model_lists_what_exists(store_root):
    store.save("exists", NumpyNet((784, 10)), {})
    with pytest.raises(store.ModelNotFound, match="no model named 'ghost'; saved models: exists"):
        store.load("ghost")


def test_corrupt_model_file(store_root):
    store.save("broken", _keras_model(), {})
    (store_root / "broken" / "model.keras").write_bytes(b"garbage")
    with pytest.raises(store.CorruptModel, match="could not be loaded"):
        store.load("broken")
    (store_root / "broken" / "card.json").write_text("{not json")
    with pytest.raises(store.CorruptModel, match="corrupt card.json"):
        store.read_card("broken")
    assert store.list_models() == [{"name": "broken", "error": store.list_models()[0]["error"]}]


def test_overwrite_and_delete(store_root):
    store.save("m", NumpyNet((784, 10)), {"v": 1})
    store.save("m", NumpyNet((784, 10)), {"v": 2})
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

    store.save("keep", NumpyNet((784, 10)), {"v": 1})
    with pytest.raises(OSError):
        store.save("keep", Exploding((784, 10)), {"v": 2})
    with pytest.raises(OSError):
        store.save("new", Exploding((784, 10)), {})
    assert store.list_names() == ["keep"] and store.read_card("keep")["v"] == 1
    assert sorted(p.name for p in store_root.iterdir()) == ["keep"]


def test_killed_save_leaves_store_consistent(store_root):
    """SIGKILL a process that overwrites a model in a loop: the old or the new model, never half of one."""
    store.save("victim", NumpyNet((784, 10)), {"v": 0})
    script = textwrap.dedent("""
        import sys
        from mnist_core.models import store
        from mnist_core.models.numpy_nets import NumpyNet
        i = 0
        while True:
            i += 1
            store.save("victim", NumpyNet((784, 64, 10)), {"v": i})
            print(i, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "MNIST_STUDIO_MODELS": str(store_root)})
    for _ in range(15):
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.list_names() == ["victim"]
    loaded = store.load("victim")
    assert loaded.card["v"] >= 15
    assert not [p for p in store_root.iterdir() if p.name.startswith(".trash")]


def test_interrupted_overwrite_is_recovered(store_root):
    store.save("m", NumpyNet((784, 10)), {"v": 1})
    os.replace(store_root / "m", store_root / ".trash-m-abcd1234")  # killed between the two renames
    assert store.list_names() == ["m"] and store.read_card("m")["v"] == 1
