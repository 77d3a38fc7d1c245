"""Data page: samples grid, class balance, mean images, augmentation preview."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from .conftest import open_page


def _open_tab(at, label: str):
    at.session_state["data_tab"] = label  # what a click on the tab does
    return at.run(timeout=120)


def test_data_page_opens_on_the_samples_and_draws_a_tab_only_when_it_is_opened(store):
    at = open_page("data")
    assert [t.label for t in at.tabs] == ["Samples per digit", "Class balance", "Mean images", "Augmentation",
                                          "Hand-drawn shapes"]
    assert len(at.image) == 1 and not at.get("plotly_chart")  # no chart script on opening
    assert at.markdown[0].value.startswith("What the models learn from. **MNIST**: 70,000")  # an introduction
    at.slider(key="data_per_digit").set_value(5).run()
    assert not at.exception and at.image[0].value

    _open_tab(at, "Class balance")
    balance = at.get("plotly_chart")
    assert len(balance) == 1 and not at.image
    spec = json.loads(balance[0].proto.spec)
    assert sorted(t["name"] for t in spec["data"]) == ["test", "train"]
    _open_tab(at, "Mean images")
    assert len(at.get("plotly_chart")) == 1 and any("centre of mass" in c.value for c in at.caption)
    _open_tab(at, "Samples per digit")
    assert len(at.image) == 1 and not at.get("plotly_chart") and not at.exception


@pytest.fixture
def media(monkeypatch) -> dict:
    """The bytes of every image the page sends, by media file id (AppTest keeps only the URLs)."""
    saved = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        saved[file_id] = self.get_file(file_id).content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return saved


def _preview(media: dict, rotation: int) -> list:
    """The preview sheet's four rows (originals, then three augmentations) as greyscale arrays."""
    at = _open_tab(open_page("data"), "Augmentation")
    at.slider(key="aug_rotation").set_value(rotation)
    at.slider(key="aug_shift").set_value(0.0)
    at.slider(key="aug_zoom").set_value(0.0).run()
    assert not at.exception
    assert len(at.image) == 1  # the augmentation sheet: the sample grid's tab is closed
    file_id = at.image[0].value[0].rsplit("/", 1)[1].split(".")[0]
    sheet = np.asarray(Image.open(io.BytesIO(media[file_id])).convert("L"), np.float32)
    tile, gutter = 28 * 3, 2 * 3  # pictures.grid at scale 3
    return [sheet[gutter + k * (tile + gutter):(k + 1) * (tile + gutter)] for k in range(4)]


def test_augmentation_preview_applies_the_chosen_rotation(store, media):
    still, turned, again = _preview(media, 0), _preview(media, 30), _preview(media, 30)
    diff = lambda a, b: float(np.abs(a - b).mean())  # noqa: E731
    assert all(np.array_equal(a, b) for a, b in zip(turned, again))  # one seed, one warp: the slider decides
    assert diff(turned[0], still[0]) < 2  # the top row is the originals either way
    assert max(diff(row, still[0]) for row in still[1:]) < 3  # 0 degrees, no shift or zoom: unchanged
    assert min(diff(a, b) for a, b in zip(turned[1:], still[1:])) > 8  # 30 degrees: every row visibly turned


def test_data_page_shows_shape_samples(store):
    at = _open_tab(open_page("data"), "Hand-drawn shapes")
    assert not at.exception
    assert any("ellipse, rectangle, triangle" in c for i in at.image for c in i.captions)
