"""The Digits / Shapes switch on Draw, Inspect, Models and Batch, with the shipped `shapes` model.

The store holds the session's one-epoch `default` and `flat` (digits) and a copy
of the repository's shipped models/shapes; the shapes' test split is made small
(4 drawings per class) in a folder of the test's own.
"""

import io
import json
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_core.data import shapes

from .conftest import REPO, frame_with, open_page, texts
from .test_draw import CANVAS, SEVEN, _drawing

CLASSES = list(shapes.CLASSES)
TRIANGLE = [(320, 40), (440, 240), (200, 240), (320, 40)]
ZIGZAG = [(150, 60), (200, 220), (250, 60), (300, 220), (350, 60), (400, 220), (450, 60)]


@pytest.fixture
def shapes_store(store, tmp_path, monkeypatch):
    shutil.copytree(REPO / "models" / "shapes", store / "shapes", ignore=shutil.ignore_patterns("cache-*", ".cache-*"))
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_SIZES", "train=2,validation=2,test=4")
    monkeypatch.setenv("MNIST_STUDIO_SHAPES_CACHE", str(tmp_path / "shapes-cache"))
    return store


def _switch(at, key: str, task: str):
    at.segmented_control(key=key).set_value(task).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _bars(at, i: int = 0) -> list:
    return json.loads(at.get("plotly_chart")[i].proto.spec)["data"][0]["x"]


def test_draw_switch_reads_one_shape_with_the_shapes_model(shapes_store):
    at = open_page("draw")
    assert at.segmented_control(key="draw_task").value == "digits"
    assert at.sidebar.selectbox[0].value == "default"
    _switch(at, "draw_task", "shapes")
    assert at.sidebar.selectbox[0].value == "shapes"  # the shapes task's model on a fresh store: the shipped one
    assert "The active shapes model, **shapes**" in texts(at)
    at.session_state[CANVAS] = _drawing(TRIANGLE)
    at.run()
    assert at.metric[0].label == "The model reads" and at.metric[0].value == "triangle"
    assert _bars(at) == CLASSES  # the probability chart names the classes
    assert "Misread?" not in texts(at)  # corrections feed the digits' personal collection
    assert "Shapes read best with a pen of 30 px or less" not in texts(at)
    at.slider(key="draw_width").set_value(30).run()
    assert "Shapes read best with a pen of 30 px or less" not in texts(at)
    at.slider(key="draw_width").set_value(31).run()
    assert "Shapes read best with a pen of 30 px or less" in texts(at)
    _switch(at, "draw_task", "digits")
    assert at.sidebar.selectbox[0].value == "default"
    assert at.metric[0].value == "not a digit"  # the same drawing, read by the digits model


def test_draw_says_not_a_shape_with_its_reason(shapes_store):
    at = open_page("draw")
    _switch(at, "draw_task", "shapes")
    at.session_state[CANVAS] = _drawing(ZIGZAG)
    at.run()
    assert at.metric[0].value == "not a shape"
    assert "This does not look like a shape: not a shape (it looks like none of the shapes this model knows)" \
        in texts(at)
    assert "Draw one of: ellipse, rectangle, triangle" in texts(at)


def test_each_task_keeps_its_own_active_model(shapes_store):
    at = open_page()
    at.sidebar.selectbox[0].select("flat").run()
    open_page("draw", at)
    _switch(at, "draw_task", "shapes")
    assert at.sidebar.selectbox[0].value == "shapes"
    _switch(at, "draw_task", "digits")
    assert at.sidebar.selectbox[0].value == "flat"  # not back to default: the digits task's choice is kept


def test_a_shapes_task_without_a_model_says_how_to_get_one(store):
    at = open_page("draw")
    _switch(at, "draw_task", "shapes")
    assert "There is no saved shapes model to read your drawing yet" in texts(at)
    assert "task Shapes" in texts(at)


def test_inspect_scores_a_shapes_model_on_the_generated_test_split(shapes_store):
    at = open_page("inspect")
    assert "Model **default**" in texts(at)
    _switch(at, "insp_task", "shapes")
    body = texts(at)
    assert "Model **shapes** (cnn)" in body and "out of 36 generated test drawings" in body  # 4 per class, not MNIST
    assert list(frame_with(at, "precision")["shape"]) == CLASSES
    assert at.selectbox(key="insp_true").label == "True shape"
    assert at.selectbox(key="insp_pred").options == CLASSES
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["x"] == CLASSES and spec["layout"]["yaxis"]["title"]["text"] == "true shape"
    at.selectbox(key="insp_true").select(2)
    at.selectbox(key="insp_pred").select(2).run()
    assert "test images of a **triangle** predicted as **triangle**" in texts(at)
    at.session_state["insp_view"] = "Look inside"
    at.run()
    assert "Feature maps" in texts(at)  # the cnn's layers
    assert "The input: test image #" in texts(at) and "labelled" in texts(at)  # a test drawing and its shape


def test_inspect_offers_a_drawn_shape_only_to_shape_models(shapes_store):
    at = open_page("draw")
    _switch(at, "draw_task", "shapes")
    at.session_state[CANVAS] = _drawing(TRIANGLE)
    at.run()
    open_page("inspect", at)
    assert "the latest canvas drawing" in at.radio(key="insp_source").options
    _switch(at, "insp_task", "digits")
    at.session_state["insp_view"] = "Look inside"  # a digits model opens on the test set: nothing drawn to explain
    at.run()
    assert at.radio(key="insp_source").options == ["a test image"]


def test_models_switch_lists_each_tasks_models_with_class_names(shapes_store):
    at = open_page("models")
    assert set(at.dataframe[0].value["name"]) == {"default", "flat"}
    assert "1 model(s) of another task" in texts(at)
    _switch(at, "models_task", "shapes")
    assert list(at.dataframe[0].value["name"]) == ["shapes"]
    assert at.selectbox(key="models_pick").value == "shapes"
    at.session_state["models_by_class"] = True  # open the expander
    at.run()
    per_class = frame_with(at, "recall")
    assert list(per_class["shape"]) == CLASSES and list(per_class["support"]) == [150] * 9  # the card's test split
    assert any(e.label.startswith("Test results per shape: ellipse, rectangle") for e in at.expander)
    assert "promote CANDIDATE... --to shapes" in texts(at)  # the shipped shapes model is not deleted here


def _shapes_zip() -> bytes:
    """Three drawings in folders named by their shape."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in ("triangle/a.png", "rectangle/b.png", "ellipse/c.png"):
            im = Image.new("L", (640, 280), 0)
            pen = ImageDraw.Draw(im)
            if name.startswith("ellipse"):
                pen.ellipse((190, 50, 450, 230), outline=255, width=18)
            elif name.startswith("rectangle"):
                pen.rectangle((220, 60, 420, 220), outline=255, width=18)
            else:
                pen.line(TRIANGLE, fill=255, width=18, joint="curve")
            out = io.BytesIO()
            im.save(out, format="PNG")
            archive.writestr(name, out.getvalue())
    return buf.getvalue()


def test_batch_reads_shape_folders_as_labels(shapes_store):
    at = open_page("batch")
    _switch(at, "batch_task", "shapes")
    assert "a folder per shape" in texts(at)
    at.file_uploader(key="batch_files").set_value(("shapes.zip", _shapes_zip(), "application/zip")).run()
    assert not at.exception
    assert "Accuracy: 100.0%" in texts(at) and "Correct: 3 of 3" in texts(at)
    table = frame_with(at, "confidence")
    assert list(table["label"]) == list(table["prediction"]) and set(table["label"]) == {"triangle", "rectangle",
                                                                                          "ellipse"}
    # the confusion matrix: a column per shape, and the refusals' own last column
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["x"][:len(CLASSES)] == CLASSES
    assert "Teach the model this handwriting" not in [h.value for h in at.subheader]  # fine-tuning is for digits
    at.button(key="batch_html_prepare").click().run()
    html = at.session_state["batch_html"][1]
    assert "triangle" in html and "not a digit" not in html


def test_the_sample_seven_is_not_a_shape_either(shapes_store):
    at = open_page("draw")
    _switch(at, "draw_task", "shapes")
    at.session_state[CANVAS] = _drawing(SEVEN)
    at.run()
    assert at.metric[0].value == "not a shape"
    assert "would have guessed" in texts(at)
    np.testing.assert_equal(np.asarray(at.session_state["draw_input"]).shape, (28, 28, 1))
