"""Data page: samples grid, class balance, mean images, augmentation preview."""

from .conftest import open_page


def test_data_page_shows_samples_balance_and_means(store):
    at = open_page("data")
    assert [h.value for h in at.subheader][:3] == ["Samples per digit", "Class balance", "The mean image of each digit"]
    assert len(at.image) == 1
    assert len(at.get("plotly_chart")) == 2
    at.slider(key="data_per_digit").set_value(5).run()
    assert not at.exception


def test_augmentation_preview_applies_the_chosen_ranges(store):
    at = open_page("data")
    at.slider(key="aug_rotation").set_value(30)
    at.toggle(key="aug_show").set_value(True).run()
    assert not at.exception
    assert len(at.image) == 2  # the sample grid and the augmentation sheet
