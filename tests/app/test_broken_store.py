"""Every page opens with a corrupt card, a corrupt model file, garbled events and unreadable statuses."""

import pytest

from mnist_core.training import rundir
from studio_ui import registry
from tests.core.test_faults import break_models, broken_runs

from .conftest import open_page, texts

# What each page shows over the broken store: its working part, never only "nothing raised".
SHOWS = {
    "home": "No training runs are in progress.",
    "data": "Class balance",
    "train": "status.json cannot be read",
    "sweeps": "No sweeps yet.",
    "models": "Model 'badcard' cannot be read",
    "inspect": "Model **default** (lenet5): test accuracy",
    "draw": "The active model, **default**, reads the drawing",
    "batch": "The active model **default** will read the images.",
}


@pytest.fixture
def broken(store, tmp_path):
    break_models(store)
    return broken_runs(tmp_path / "runs")


def test_every_registered_page_has_an_expectation():
    assert set(SHOWS) == {page.url_path for page in registry.all_pages()}


@pytest.mark.parametrize("page", registry.all_pages(), ids=lambda page: page.url_path)
def test_every_page_opens_and_shows_its_working_part(broken, page):
    at = open_page(page.url_path)
    shown = "\n".join([texts(at), *(e.label for e in at.expander), *(h.value for h in at.subheader),
                       *(t.label for t in at.tabs)])
    assert [t.value for t in at.title] == [page.title if page is not registry.HOME else "MNIST Studio"]
    assert SHOWS[page.url_path] in shown, shown
    assert not at.error, [e.value for e in at.error]


def test_home_links_every_other_page_and_lists_the_readable_models(broken):
    at = open_page("home")
    shown = texts(at)
    assert all(page.blurb in shown for page in registry.all_pages() if page is not registry.HOME)
    assert {"default", "flat"} <= set(at.dataframe[0].value["name"]) and "badcard" not in shown


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


def _png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    im = Image.new("L", (120, 120), 255)
    ImageDraw.Draw(im).line([(30, 20), (90, 20), (50, 100)], fill=0, width=9)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("page", ["draw", "batch", "inspect"])
def test_choosing_a_model_with_a_corrupt_file_explains_and_other_models_still_work(broken, page):
    at = open_page()
    at.sidebar.selectbox[0].select("badfile").run()
    open_page(page, at)
    if page == "batch":  # Batch loads the model only once there is something to read
        at.file_uploader(key="batch_files").set_value(("7_a.png", _png(), "image/png")).run()
    assert "badfile" in texts(at) and any("badfile" in e.value for e in [*at.error, *at.warning]), texts(at)
    if page == "draw":  # the canvas is drawn from the card before the model loads, so it comes first
        kinds = [getattr(n, "type", None) for n in at.main]
        assert kinds.index("bidi_component") < kinds.index("error")
    at.sidebar.selectbox[0].select("flat").run()
    assert not at.exception
