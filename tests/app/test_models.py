"""Models page: the comparison table, overlaid curves, downloads and delete."""

import json

from mnist_core.models import store as store_mod

from .conftest import open_page, texts


def _open(at, key: str, value=True):
    at.session_state[key] = value  # what a click on the tab or the expander does
    return at.run()


def test_models_are_listed_with_curves_and_downloads(store):
    at = open_page("models")
    table = at.dataframe[0].value
    assert list(table["name"]) == sorted(table["name"], key=lambda n: -table.set_index("name").loc[n, "test_accuracy"])
    assert {"origin", "test_accuracy", "params"} <= set(table.columns)
    assert len(table.columns) <= 7  # the table fits the page; the rest are under "All columns"
    assert len(at.dataframe) == 1 and not at.get("plotly_chart")  # closed tabs and expanders are not drawn
    _open(at, "models_all_columns")
    assert {"augment", "created", "test_loss", "inference_ms"} <= set(at.dataframe[1].value.columns)
    _open(at, "models_view", "Learning curves")
    assert at.multiselect(key="models_compare").value == list(table["name"])
    assert len(at.get("plotly_chart")) == 2 and not at.dataframe
    assert {b.label for b in at.download_button} == {"Download model file", "Download model card (JSON)"}
    assert {b.label for b in at.button if b.key.startswith("export_")} == \
        {"Export ONNX", "Export LiteRT (.tflite)", "Export TF SavedModel (.zip)", "Export Keras (.keras)"}


def test_delete_needs_confirmation_then_removes_the_model(store):
    at = open_page("models")
    at.selectbox(key="models_pick").select("flat").run()
    assert at.button(key="models_delete").disabled
    at.checkbox(key="models_sure_flat").check().run()
    at.button(key="models_delete").click().run()
    assert store_mod.list_names() == ["default"]
    assert "Deleted model 'flat' (the folder models/flat/: card.json, model.npz)." in texts(at)
    assert list(at.dataframe[0].value["name"]) == ["default"]


def test_deleting_the_active_model_falls_back_to_default(store):
    at = open_page()
    at.sidebar.selectbox[0].select("flat").run()
    open_page("models", at)
    assert at.selectbox(key="models_pick").value == "flat"
    at.checkbox(key="models_sure_flat").check().run()
    at.button(key="models_delete").click().run()
    assert at.session_state["active_model"] == "default"
    assert at.sidebar.selectbox[0].options == ["default"]


def test_many_models(store):
    card = json.loads((store / "flat" / "card.json").read_text())
    import shutil

    for i in range(25):
        shutil.copytree(store / "flat", store / f"m{i:02d}")
        (store / f"m{i:02d}" / "card.json").write_text(json.dumps({**card, "name": f"m{i:02d}",
                                                                   "test_accuracy": 0.5 + i / 100}))
    at = open_page("models")
    assert len(at.dataframe[0].value) == 27
    _open(at, "models_view", "Learning curves")
    assert len(at.multiselect(key="models_compare").value) == 3
    open_page(None, at)


def test_comparison_reads_at_the_top_and_draws_ensembles(store):
    store_mod.save("duo", None, {"backend": "ensemble", "kind": "ensemble", "members": ["default", "flat"],
                                 "test_accuracy": 0.995})
    at = _open(open_page("models"), "models_view", "Learning curves")
    assert at.multiselect(key="models_compare").value[0] == "duo"  # the best, chosen first
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["type"] == "log"  # error rate on a log axis by default
    assert "duo (final)" in [t.get("name") for t in spec["data"]]
    assert "Dotted: duo" in texts(at) and "log scale" in texts(at)
    at.segmented_control(key="models_scale").set_value("accuracy, top range").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    low, high = spec["layout"]["yaxis"]["range"]
    assert low > 0.3 and high <= 1.01 and "duo (final)" in [t.get("name") for t in spec["data"]]


def test_a_model_stopped_early_says_so(store):
    card = json.loads((store / "flat" / "card.json").read_text())
    card["stopped_early"] = {"epoch": 1, "epochs": 3, "note": "stopped early at epoch 1 of 3 at the user's request"}
    (store / "flat" / "card.json").write_text(json.dumps(card))
    at = open_page("models")
    assert "**flat**: stopped early at epoch 1 of 3" in texts(at)


def test_a_model_without_a_validation_curve_says_why(store):
    card = json.loads((store / "flat" / "card.json").read_text())
    card["history"] = {k: v for k, v in card["history"].items() if not k.startswith("val_")}  # trained on all 60,000
    (store / "flat" / "card.json").write_text(json.dumps(card))
    at = _open(open_page("models"), "models_view", "Learning curves")
    names = [t.get("name") for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert "default" in names and "flat" not in names
    assert "No validation curve for flat: trained on all 60,000 training images" in texts(at)
    at.segmented_control(key="models_split").set_value("train").run()
    names = [t.get("name") for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert "flat" in names and "No train curve" not in texts(at)


def test_the_filter_hides_sweep_trials_and_weak_models_but_never_the_shipped_one(store):
    for name, extra in (("trial", {"sweep": {"id": "s1", "number": 0}}), ("tuned", {"finetune": {"success": True}})):
        store_mod.copy("flat", name, extra)
    at = open_page("models")
    assert dict(zip(at.dataframe[0].value["name"], at.dataframe[0].value["origin"])) == {
        "default": "shipped", "flat": "trained", "trial": "sweep trial", "tuned": "fine-tuned"}
    at.multiselect(key="models_origins").unselect("sweep trial").run()
    assert set(at.dataframe[0].value["name"]) == {"default", "flat", "tuned"}
    assert "1 of 4 models hidden by the filter." in texts(at)
    at.slider(key="models_at_least").set_value(100.0).run()
    assert list(at.dataframe[0].value["name"]) == ["default"]  # every page reads with it: it stays
