"""Every page opens with a corrupt card, a corrupt model file, garbled events and unreadable statuses."""

import pytest

from mnist_core.training import rundir
from tests.core.test_faults import break_models, broken_runs

from .conftest import open_page, texts

PAGES = ["home", "data", "draw", "batch", "inspect", "models", "train"]


@pytest.fixture
def broken(store, tmp_path):
    break_models(store)
    return broken_runs(tmp_path / "runs")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens(broken, page):
    at = open_page(page)
    assert not at.exception


def test_models_page_names_the_broken_ones(broken):
    at = open_page("models")
    shown = texts(at)
    assert "Model 'badcard' cannot be read" in shown and "corrupt card.json" in shown
    assert set(at.dataframe[0].value["name"]) >= {"default", "flat"}


def test_train_page_lists_broken_runs_with_the_reason(broken):
    at = open_page("train")
    shown = texts(at) + "\n".join(e.label for e in at.expander)
    assert shown.count("status.json cannot be read") >= 2
    assert rundir.RunDir(broken["garbled-events"].path).status()["state"] == "completed"


@pytest.mark.parametrize("page", ["draw", "batch", "inspect"])
def test_choosing_a_model_with_a_corrupt_file_explains_and_other_models_still_work(broken, page):
    at = open_page()
    at.sidebar.selectbox[0].select("badfile").run()
    open_page(page, at)
    assert "badfile" in texts(at) and any("badfile" in e.value for e in [*at.error, *at.warning]), texts(at)
    if page == "draw":  # the canvas is drawn from the card before the model loads, so it comes first
        kinds = [getattr(n, "type", None) for n in at.main]
        assert kinds.index("bidi_component") < kinds.index("error")
    at.sidebar.selectbox[0].select("flat").run()
    assert not at.exception
