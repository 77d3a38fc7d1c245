"""Home and the router: leaderboard, dataset numbers, page links, the active-model picker."""

from .conftest import open_page, texts


def test_home_shows_dataset_leaderboard_and_links(store):
    at = open_page()
    assert at.title[0].value == "MNIST Studio"
    body = texts(at)
    assert "Training images: 55,000" in body and "Test images: 10,000" in body
    board = at.dataframe[0].value
    assert set(board["name"]) == {"default", "flat"}
    assert list(board["task"]) == ["digits", "digits"]
    assert board["test_accuracy"].is_monotonic_decreasing
    assert "No training runs are in progress." in body
    assert len(at.get("page_link")) >= 6


def test_active_model_defaults_to_default_and_survives_page_changes(store):
    at = open_page()
    picker = at.sidebar.selectbox[0]
    assert picker.label == "Active model" and picker.value == "default"
    picker.select("flat").run()
    assert at.session_state["active_model"] == "flat"
    open_page("models", at)
    assert at.sidebar.selectbox[0].value == "flat"
    open_page("inspect", at)
    assert "Model **flat**" in texts(at)


def test_model_query_parameter_selects_the_model_once(store):
    at = open_page()
    at.query_params["model"] = "flat"
    at.run()
    assert at.session_state["active_model"] == "flat"
    assert "model" not in at.query_params  # consumed, so the sidebar choice wins afterwards
    at.query_params["model"] = "no-such-model"
    at.run()
    assert at.session_state["active_model"] == "flat"


def test_the_leaderboard_says_each_models_task(store):
    import shutil

    from .conftest import REPO

    shutil.copytree(REPO / "models" / "shapes", store / "shapes", ignore=shutil.ignore_patterns("cache-*", ".cache-*"))
    board = open_page().dataframe[0].value
    assert dict(zip(board["name"], board["task"])) == {"default": "digits", "flat": "digits", "shapes": "shapes"}


def test_leaderboard_keeps_default_after_a_weak_promote_and_uses_two_decimals(store):
    import json
    import shutil

    for i in range(11):  # eleven better models push a weak default out of the top ten
        shutil.copytree(store / "flat", store / f"flat{i}")
        card = json.loads((store / f"flat{i}" / "card.json").read_text())
        card.update(name=f"flat{i}", test_accuracy=0.99 - i / 1000)
        (store / f"flat{i}" / "card.json").write_text(json.dumps(card))
    card = json.loads((store / "default" / "card.json").read_text())
    card["test_accuracy"] = 0.7059
    (store / "default" / "card.json").write_text(json.dumps(card))
    at = open_page()
    board = at.dataframe[0].value
    assert list(board["name"])[-1] == "default" and len(board) == 11
    assert board["test_accuracy"].tolist()[:2] == [99.0, 98.9]
    assert board["test_accuracy"].iloc[-1] == 70.59
    assert "the shipped models every page reads with" in texts(at)


def test_the_leaderboard_gives_an_ensemble_the_task_of_its_members(store):
    """An ensemble card written before cards named their task reads as its (shapes) members, not as digits."""
    import json
    import shutil

    for name in ("shp-a", "shp-b"):
        shutil.copytree(store / "flat", store / name)
        card = json.loads((store / name / "card.json").read_text())
        (store / name / "card.json").write_text(json.dumps({**card, "name": name, "task": "shapes"}))
    (store / "shp-team").mkdir()
    (store / "shp-team" / "card.json").write_text(json.dumps(
        {"name": "shp-team", "kind": "ensemble", "backend": "ensemble", "members": ["shp-a", "shp-b"],
         "test_accuracy": 0.5}))
    board = open_page().dataframe[0].value
    assert dict(zip(board["name"], board["task"]))["shp-team"] == "shapes"
    assert dict(zip(board["name"], board["task"]))["default"] == "digits"
