"""Inspect page: confusions, per-class metrics, mistakes, filters, feature maps, saliency."""

from .conftest import open_page, texts


def test_inspect_a_conv_model(store):
    at = open_page("inspect")
    body = texts(at)
    assert "Model **default** (lenet5)" in body
    # confusion matrix, per-class bars, image, probabilities, saliency, 2 feature-map and 2 filter grids
    assert len(at.get("plotly_chart")) == 9
    assert "Feature maps" in body and "Filters" in body
    per_class = at.dataframe[0].value
    assert list(per_class["digit"]) == list(range(10))
    assert at.image  # pair gallery and mistakes gallery


def test_choosing_a_confusion_cell_shows_its_images(store):
    at = open_page("inspect")
    at.selectbox(key="insp_true").select(4)
    at.selectbox(key="insp_pred").select(9).run()
    assert "test images of a **4** predicted as **9**" in texts(at)
    at.selectbox(key="insp_pred").select(4).run()
    assert "read correctly, least confident first" in texts(at)


def test_explain_another_test_image(store):
    at = open_page("inspect")
    at.number_input(key="insp_index").set_value(0).run()
    assert any("test image #0, labelled 7" in str(getattr(c, "proto", "")) for c in at.get("plotly_chart"))


def test_inspect_a_model_without_convolutions(store):
    at = open_page()
    at.sidebar.selectbox[0].select("flat").run()
    open_page("inspect", at)
    assert "has no convolutional layers" in texts(at)
    assert len(at.get("plotly_chart")) == 5  # saliency still works
