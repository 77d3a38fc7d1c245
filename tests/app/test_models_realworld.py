"""Models page: the "real world" figures beside MNIST's, from each model's saved realworld.json."""

from mnist_core.analysis import realworld

from .conftest import open_page, texts


def _open(at, key: str, value=True):
    at.session_state[key] = value
    return at.run()


def test_the_real_world_tab_says_how_to_measure_when_nothing_is(store):
    at = _open(open_page("models"), "models_view", "Real world")
    assert "python bench/realworld.py --models NAME --save" in texts(at)


def test_measured_figures_appear_beside_mnist_and_in_the_model_section(store):
    scores = [realworld.SourceScore("optdigits32", "n", 2880, 2845, 2845 / 2880, (0.983, 0.991), 3,
                                    [("1", "9", 6)]),
              realworld.SourceScore("uji held-out writers", "n", trained_on=True)]
    realworld.save("flat", scores, root=store)
    at = _open(open_page("models"), "models_view", "Real world")
    frame = at.dataframe[0].value
    row = frame.set_index("model").loc["flat"]
    assert list(frame["model"]) == ["flat"]  # default was never measured in this store
    assert row["optdigits32"] == "98.78%" and row["uji held-out writers"] == "trained on"
    assert row["MNIST test"].endswith("%")
    at.selectbox(key="models_pick").select("flat").run()
    _open(at, "models_realworld_one")
    detail = at.dataframe[-1].value
    assert list(detail["source"]) == ["optdigits32", "uji held-out writers"]
    assert detail.iloc[0]["commonest errors"] == "1->9 x6" and detail.iloc[0]["refused"] == "0.1%"
    assert list(detail["images"]) == ["2,880", ""]  # a source not scored shows no count, never "None"


def test_a_shapes_model_is_shown_beside_its_generated_test_not_mnist():
    from mnist_core.analysis.realworld import SourceScore, summary_rows
    from studio_ui.realworld_view import TEST_LABEL
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s").mkdir()
        realworld.save("s", [SourceScore("hds held-out people", "n", 10, 9, 0.9, (0.6, 0.98), 0, [])], root=Path(tmp))
        rows = summary_rows([{"name": "s", "test_accuracy": 0.98}], root=Path(tmp), test_label=TEST_LABEL["shapes"])
    assert rows == [{"model": "s", "generated test": 0.98, "hds held-out people": 0.9,
                     "measured": rows[0]["measured"]}]
