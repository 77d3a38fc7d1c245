"""Inspect page: confusions, per-class metrics, mistakes, filters, feature maps, saliency."""

from .conftest import frame_with, open_page, texts


def look_inside(at):
    at.session_state["insp_view"] = "Look inside"  # what a click on the tab does
    return at.run()


def test_inspect_a_conv_model(store):
    at = open_page("inspect")
    body = texts(at)
    assert "Model **default** (lenet5)" in body
    assert [t.label for t in at.tabs] == ["Test set", "Look inside", "Layers", "Map"]
    assert len(at.get("plotly_chart")) == 2  # confusion matrix, per-class bars; Look inside is not drawn yet
    assert "Feature maps" not in body and not at.get("select_slider")
    per_class = frame_with(at, "recall")
    assert list(per_class["digit"]) == list(range(10))
    assert at.image  # pair gallery and mistakes gallery

    body = texts(look_inside(at))
    # the input, saliency, probabilities, one layer's feature maps, the first filters
    assert len(at.get("plotly_chart")) == 5 and not at.table
    assert "Feature maps" in body and "Filters of the first layer" in body


def test_choosing_a_confusion_cell_shows_its_images(store):
    at = open_page("inspect")
    at.selectbox(key="insp_true").select(4)
    at.selectbox(key="insp_pred").select(9).run()
    assert "test images of a **4** predicted as **9**" in texts(at)
    at.selectbox(key="insp_pred").select(4).run()
    assert "read correctly, least confident first" in texts(at)


def test_explain_another_test_image(store):
    at = look_inside(open_page("inspect"))
    at.number_input(key="insp_index").set_value(0).run()
    assert "The input: test image #0, labelled 7." in texts(at)
    assert "Input" in _chart_titles(at).split(" | ")  # a short title: the long one was cut off in a third


def test_inspect_a_model_without_convolutions(store):
    at = open_page()
    at.sidebar.selectbox[0].select("flat").run()
    look_inside(open_page("inspect", at))
    assert "has no convolutional layers" in texts(at)
    assert len(at.get("plotly_chart")) == 3  # saliency still works


def _chart_titles(at) -> str:
    import json

    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return " | ".join(str((s["layout"].get("title") or {}).get("text")) for s in specs)


def test_inspect_speaks_to_students(store):
    at = open_page("inspect")
    mistakes_line = texts(at)
    body, titles = texts(look_inside(at)), _chart_titles(at)
    assert "conv 1: 6 filters 5x5" in titles and "conv2d" not in body  # not Keras' conv2d_7
    assert at.select_slider(key="insp_layer").options == ["conv 1: 6 filters 5x5", "conv 2: 16 filters 5x5"]
    at.select_slider(key="insp_layer").set_value("conv 2: 16 filters 5x5").run()
    assert "conv 2: 16 filters 5x5 · all 16 maps" in _chart_titles(at)
    assert "Saliency for" in titles and "The input: test image" in body
    mistakes = int(body.split(" mistakes out of ")[0].rsplit("**", 1)[-1].replace(",", "").split()[-1])
    assert mistakes > 30 and f"showing 30 of {mistakes:,} mistakes" in mistakes_line


def test_predictions_are_kept_beside_the_card(store):
    from mnist_core.analysis import predictions

    assert not (store / "default" / predictions.FILE).exists()
    open_page("inspect")
    assert (store / "default" / predictions.FILE).is_file()


def test_each_digit_of_a_drawn_number_can_be_explained(store):
    import numpy as np

    at = open_page()
    digits = [np.zeros((28, 28, 1), np.float32), np.ones((28, 28, 1), np.float32) * 0.5]
    at.session_state["draw_digits"] = digits
    at.session_state["draw_input"] = digits[0]
    open_page("inspect", at)  # opens on Look inside: there is a drawing to explain
    assert at.radio(key="insp_source").options == ["a test image", "digit 1 of your drawing",
                                                   "digit 2 of your drawing"]
    assert at.radio(key="insp_source").value == "digit 1 of your drawing"  # not test image #N
    at.radio(key="insp_source").set_value("digit 2 of your drawing").run()
    assert "The input: digit 2 of your drawing, as the model sees it." in texts(at)


def test_a_new_drawing_is_explained_first_even_after_choosing_a_test_image(store):
    import numpy as np

    at = open_page()
    at.session_state["draw_input"] = np.full((28, 28, 1), 0.3, np.float32)
    open_page("inspect", at)
    at.radio(key="insp_source").set_value("a test image").run()
    at.run()
    assert at.radio(key="insp_source").value == "a test image"  # the same drawing: the user's choice holds
    at.session_state["draw_input"] = np.full((28, 28, 1), 0.6, np.float32)  # drawn again on Draw
    at.run()
    assert at.radio(key="insp_source").value == "the latest canvas drawing"
    assert "The input: your latest drawing, as the model sees it." in texts(at)


def test_saliency_says_what_it_shows_and_offers_the_other_methods(store):
    at = look_inside(open_page("inspect"))
    assert at.segmented_control(key="insp_saliency").value == "evidence"
    assert "Empty paper is never lit" in texts(at)
    at.segmented_control(key="insp_saliency").set_value("smoothgrad").run()
    assert "SmoothGrad: where a change would move the score" in texts(at) and "may be empty paper" in texts(at)
