"""Store details found by `make mutation`: an explicit root everywhere, exact messages, card.json's text,
hidden folders of names with '-', clean-ups that fail, the newest of two interrupted overwrites,
modification stamps, attached caches and ensemble membership."""

import json
import os
import pathlib
import shutil

import numpy as np
import pytest

from mnist_core import access
from mnist_core.models import store
from mnist_core.models.numpy_nets import NumpyNet

NUMPY = {"backend": "numpy"}


@pytest.fixture
def root(store_root, tmp_path):
    """A store passed explicitly, while the default store (the environment's) stays empty."""
    return tmp_path / "explicit"


def _save(name, root, **card):
    return store.save(name, NumpyNet((4, 2)), {**NUMPY, **card}, root=root)


def _ensemble(name, root, members, **card):
    return store.save(name, None, {"backend": "ensemble", "kind": "ensemble", "members": members, **card}, root=root)


def test_an_explicit_root_is_used_by_every_function(root, store_root):
    _save("a", root, v=1)
    _save("b", root)
    _ensemble("e", root, ["a", "b"])
    assert store.model_file("a", root) == root / "a" / "model.npz"
    assert [c["name"] for c in store.list_models(root)] == ["a", "b", "e"]
    assert store.ensembles_using("a", root) == ["e"] and store.modified("a", root) > 0
    assert store.attach("a", "cache-x", b"1", root) and store.read_attached("a", "cache-x", lambda c, f, d: d, root) == b"1"
    store.copy("a", "c", root=root)
    store.delete("c", root)
    assert store.list_names(root) == ["a", "b", "e"] and store.list_names() == []


def test_not_found_messages_list_the_store(root):
    with pytest.raises(store.ModelNotFound) as info:
        store.read_card("ghost", root)
    assert str(info.value) == "no model named 'ghost'; the store is empty"
    _save("a", root)
    _save("b", root)
    for call in (lambda: store.read_card("ghost", root), lambda: store.delete("ghost", root)):
        with pytest.raises(store.ModelNotFound) as info:
            call()
        assert str(info.value) == "no model named 'ghost'; saved models: a, b"


def test_a_member_of_ensembles_cannot_be_deleted(root):
    _save("a", root)
    _save("b", root)
    _ensemble("e1", root, ["a", "b"])
    _ensemble("e2", root, ["a"])
    _save("plain", root, members=["a"])  # not an ensemble, whatever its card lists
    store.save("e3", None, {"backend": "ensemble", "kind": "ensemble"}, root=root)  # no member list at all
    assert store.ensembles_using("a", root) == ["e1", "e2"] and store.ensembles_using("plain", root) == []
    with pytest.raises(store.StoreError) as info:
        store.delete("a", root)
    assert str(info.value) == "model 'a' is a member of ensemble 'e1', 'e2'; delete the ensemble first"
    store.delete("plain", root)
    assert store.list_names(root) == ["a", "b", "e1", "e2", "e3"]


def test_card_json_text_for_save_and_copy(root):
    store.save("a", NumpyNet((4, 2)), {**NUMPY, "acc": np.float32(0.5), "arr": np.arange(2)}, root=root)
    assert (root / "a" / "card.json").read_text() == (
        '{\n "backend": "numpy",\n "acc": 0.5,\n "arr": [\n  0,\n  1\n ],\n "file": "model.npz",\n "name": "a"\n}')
    store.copy("a", "b", {"n": np.int64(3)}, root=root)
    assert (root / "b" / "card.json").read_text() == (
        '{\n "backend": "numpy",\n "acc": 0.5,\n "arr": [\n  0,\n  1\n ],\n "file": "model.npz",\n "name": "b",\n'
        ' "n": 3\n}')
    with pytest.raises(TypeError) as info:
        store.save("c", NumpyNet((4, 2)), {**NUMPY, "bad": object()}, root=root)
    assert str(info.value) == "not JSON serialisable: object"


def test_messages_for_a_bad_backend_and_a_visitor(root):
    with pytest.raises(store.StoreError) as info:
        store.save("x", NumpyNet((4, 2)), {}, root=root)
    assert str(info.value) == "model 'x' has backend None; a card's backend must be one of keras, numpy, ensemble, onnx, litert"
    _save("a", root)
    with access.acting_as(access.VISITOR):
        for call, action in ((lambda: _save("a", root), "save model 'a'"),
                             (lambda: store.copy("a", "b", root=root), "copy model 'a' to 'b'"),
                             (lambda: store.delete("a", root), "delete model 'a'")):
            with pytest.raises(access.AccessDenied, match=f"^cannot {action}: "):
                call()


def test_hidden_names():
    assert store._hidden_name(".trash-my-model-abcd1234", store.OLD) == "my-model"
    assert store._hidden_name(".trash-Not Valid-abcd1234", store.OLD) is None


def test_an_interrupted_overwrite_of_a_name_with_a_dash_is_recovered(root):
    _save("my-model", root, v=1)
    os.replace(root / "my-model", root / ".trash-my-model-abcd1234")
    assert store.list_names(root) == ["my-model"] and store.read_card("my-model", root)["v"] == 1
    assert store.read_card("my-model", root)["name"] == "my-model"
    _save("other", root)
    assert sorted(p.name for p in root.iterdir()) == ["my-model", "other"]


def test_old_folders_that_cannot_be_restored_are_neither_listed_nor_restored(root):
    _save("keep", root)
    for name, files in (("nocard", ["model.npz"]), ("marked", ["card.json", ".deleted"]), ("Bad", ["card.json"])):
        old = root / f".trash-{name}-00000000"
        old.mkdir()
        for f in files:
            (old / f).write_text("{}")
    (root / "m").mkdir()  # a folder without a card where an old copy waits: not a model, not listed
    (root / ".trash-m-00000000").mkdir()
    (root / ".trash-m-00000000" / "card.json").write_text("{}")
    assert store.list_names(root) == ["keep"]
    for name in ("nocard", "marked"):
        with pytest.raises(store.ModelNotFound):
            store.read_card(name, root)
    _save("next", root)
    assert sorted(p.name for p in root.iterdir()) == ["keep", "m", "next"]


def test_a_failed_clean_up_never_fails_a_writer(root, monkeypatch):
    real = shutil.rmtree

    def stubborn(path, ignore_errors=False, **kwargs):
        if not ignore_errors:
            raise OSError("device busy")

    _save("a", root)
    (root / ".tmp-x-00000000").mkdir()
    (root / ".trash-a-00000000").mkdir()
    monkeypatch.setattr(shutil, "rmtree", stubborn)
    _save("a", root, v=2)  # recovers and overwrites (removing the old copy), each removal failing quietly
    assert store.read_card("a", root)["v"] == 2
    monkeypatch.setattr(shutil, "rmtree", real)
    _save("b", root)
    monkeypatch.setattr(shutil, "rmtree", stubborn)
    store.delete("b", root)
    assert "b" not in store.list_names(root)


def test_the_newest_of_two_interrupted_overwrites_is_read(root):
    for name, version, hidden, ns in (("m", "older", ".trash-m-bbbbbbbb", 1), ("m", "newer", ".trash-m-aaaaaaaa", 2),
                                      ("m-x", "another name", ".trash-m-x-cccccccc", 3)):
        (root / hidden).mkdir(parents=True)  # as if killed between an overwrite's two renames
        (root / hidden / "card.json").write_text(json.dumps({**NUMPY, "v": version}))
        os.utime(root / hidden, ns=(ns, ns))  # 'aaaaaaaa' sorts first by name, yet is the newer folder
    assert store.read_card("m", root)["v"] == "newer"
    assert store.read_card("m-x", root)["v"] == "another name"
    os.replace(root / ".trash-m-aaaaaaaa", root / ".trash-q-aaaaaaaa")
    os.replace(root / ".trash-m-bbbbbbbb", root / ".trash-q-bbbbbbbb")
    with pytest.raises(store.ModelNotFound):
        store.read_card("m", root)  # only m-x's old folder matches the glob: not m


def test_locate_takes_a_folder_that_appeared_meanwhile(root, monkeypatch):
    _save("m", root)
    real = pathlib.Path.is_dir
    calls = []

    def is_dir(self):
        if self == root / "m":
            calls.append(1)
            if len(calls) == 1:
                return False  # the first look falls between the overwrite's two renames
        return real(self)

    monkeypatch.setattr(pathlib.Path, "is_dir", is_dir)
    assert store._locate(root, "m") == root / "m" and len(calls) == 2


def test_a_model_that_keeps_changing_is_reported(root, monkeypatch):
    _save("m", root)
    stamps = iter(range(100))
    monkeypatch.setattr(store, "_identity", lambda folder: next(stamps))
    with pytest.raises(store.StoreError) as info:
        store.read_card("m", root)
    assert str(info.value) == "model 'm' kept changing while it was read; try again"


def test_unreadable_cards_are_listed_with_their_error(root):
    _save("broken", root)
    (root / "broken" / "card.json").write_text("{not json")
    assert store.list_models(root) == [{"name": "broken", "error": "model 'broken' has a corrupt card.json: "
                                        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}]
    (root / "broken" / "card.json").unlink()
    (root / "broken" / "card.json").mkdir()
    with pytest.raises(store.CorruptModel) as info:
        store.read_card("broken", root)
    assert str(info.value) == "model 'broken' has no readable card.json"


def test_a_quiet_store_is_listed_once(root, monkeypatch):
    _save("a", root)
    real = pathlib.Path.iterdir
    listed = []
    monkeypatch.setattr(pathlib.Path, "iterdir", lambda self: listed.append(self) or real(self))
    assert store.list_names(root) == ["a"] and listed == [root]


def _stamp_files(folder, **mtimes):
    for name, t in mtimes.items():
        os.utime(folder / name.replace("_", "."), (t, t))


def test_modified_is_the_newest_file_loading_reads(root):
    _save("a", root)
    _save("b", root)
    _stamp_files(root / "a", card_json=100, model_npz=200)
    _stamp_files(root / "b", card_json=300, model_npz=400)
    assert store.attach("a", "cache-preds", b"x", root)
    os.utime(root / "a" / "cache-preds", (900, 900))  # a cache written later is no new model
    assert store.modified("a", root) == 200.0
    _ensemble("e", root, ["a", "b", 5, "../outside", "Bad"])
    _stamp_files(root / "e", card_json=50)
    assert store.modified("e", root) == 400.0  # the newest of it and its members
    _save("plain", root, kind="plain", members=["b"])
    _stamp_files(root / "plain", card_json=10, model_npz=20)
    assert store.modified("plain", root) == 20.0
    (root / "plain" / "card.json").write_text("{")
    _stamp_files(root / "plain", card_json=30)
    assert store.modified("plain", root) == 30.0  # an unreadable card: the folder's own stamp
    assert store.modified("ghost", root) == 0.0 and store._stamp(root / "nowhere") == 0.0
    (root / "empty").mkdir()
    assert store._stamp(root / "empty") == 0.0  # a folder with none of the files loading reads


def test_attach_and_read_attached(root, monkeypatch):
    with pytest.raises(store.StoreError) as info:
        store.attach("a", "preds", b"x", root)
    assert str(info.value) == "invalid cache file name 'preds': it must start with 'cache-'"
    assert store.attach("a", "cache-p", b"x", root) is False and not (root / "a").exists()
    _save("a", root)
    assert store.attach("a", "cache-p", b"xyz", root) is True
    assert sorted(p.name for p in (root / "a").iterdir()) == ["cache-p", "card.json", "model.npz"]
    got = store.read_attached("a", "cache-p", lambda card, folder, data: (card["name"], folder, data), root)
    assert got == ("a", root / "a", b"xyz")
    assert store.read_attached("a", "cache-q", lambda card, folder, data: data, root) is None
    (root / "a" / "cache-d").mkdir()
    with pytest.raises(store.StoreError, match=r"^model 'a': cannot read cache-d: \[Errno 21\] Is a directory"):
        store.read_attached("a", "cache-d", lambda card, folder, data: data, root)

    def read_only(src, dst):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    assert store.attach("a", "cache-r", b"x", root) is False
    assert sorted(p.name for p in (root / "a").iterdir()) == ["cache-d", "cache-p", "card.json", "model.npz"]
