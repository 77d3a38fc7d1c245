"""Inspect's Map tab: the points are test rows, and choosing points shows those rows' images."""

import base64
import json

import numpy as np

from mnist_core.analysis import testset
from studio_ui import embedding_view

from .conftest import open_page, texts


def _map(at):
    at.session_state["insp_view"] = "Map"  # what a click on the tab does
    return at.run()


def _array(value):
    """A plotly JSON array: a list, or numpy's bytes as {dtype, bdata, shape}."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return out.reshape([int(v) for v in str(value["shape"]).split(",")]) if "shape" in value else out
    return np.asarray(value)


def test_the_map_points_are_the_rows_they_claim_and_a_choice_shows_them(store):
    at = _map(open_page("inspect"))
    at.select_slider(key="insp_map_n").set_value(500).run()
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    traces = spec["data"]
    assert [t["name"] for t in traces] == [str(d) for d in range(10)]  # coloured by label
    points = [tuple(int(v) for v in c) for t in traces for c in _array(t["customdata"]).reshape(-1, 3)]
    assert len(points) == 500
    data = testset.load("digits")
    for row, label, _ in points[::97]:
        assert label == data.y[row]  # each point's label is its row's
    # a misread point whose neighbouring rows hold other digits: a caption off by one row, or showing the
    # reading as the label, cannot pass for it
    row, label, pred = next(p for p in points if p[1] != p[2] and data.y[p[0] - 1] != p[1] != data.y[p[0] + 1])
    at.session_state[embedding_view.ROWS] = [row]  # what a click on that point does (see rows_of)
    at.run()
    assert [c for image in at.image for c in image.captions] == [f"#{row} · {label} → {pred}"]
    assert "**1** chosen on the map" in texts(at)
    at.segmented_control(key="insp_map_by").set_value("right or wrong").run()
    assert [t["name"] for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]] == ["right", "wrong"]


def test_a_plotly_selection_gives_its_points_rows():
    selection = {"selection": {"points": [{"customdata": [42, 7, 7]}, {"customdata": [9, 1, 2]},
                                          {"customdata": [42, 7, 7]}, {"x": 1},
                                          {"customdata": {"0": 5, "1": 3, "2": 3}}]}}  # as a browser sends it
    assert embedding_view.rows_of(selection) == [42, 9, 5]
    assert embedding_view.rows_of(None) == [] and embedding_view.rows_of({"selection": {}}) == []
    assert np.array_equal(np.asarray(embedding_view.rows_of(selection)), [42, 9, 5])


def test_your_handwriting_on_the_map_and_a_t_sne_layout(store, tmp_path, monkeypatch):
    from PIL import Image, ImageDraw

    from mnist_core.handwriting import personal

    monkeypatch.setenv("MNIST_STUDIO_COLLECTIONS", str(tmp_path / "mine"))
    for label, box in ((1, (135, 40, 150, 240)), (0, (70, 40, 210, 240))):  # a bar and a ring, drawn
        im = Image.new("L", (280, 280))
        (ImageDraw.Draw(im).rectangle if label == 1 else ImageDraw.Draw(im).ellipse)(box, outline=255, width=16,
                                                                                     fill=255 if label == 1 else None)
        personal.add(im, label)
    at = _map(open_page("inspect"))
    at.select_slider(key="insp_map_n").set_value(500).run()
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    stars = [t for t in traces if t["name"] == "your handwriting"]
    assert len(stars) == 1
    own = _array(stars[0]["customdata"]).reshape(-1, 3)
    assert sorted(own[:, 1].tolist()) == [0, 1] and (own[:, 0] == -1).all()  # not test rows: a click shows none
    assert "Stars: your 2 drawings" in texts(at)
    at.toggle(key="insp_map_own").set_value(False).run()
    assert "your handwriting" not in [t["name"] for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    at.segmented_control(key="insp_map_method").set_value("t-SNE").run()
    assert at.select_slider(key="insp_map_n").options == ["500", "1000"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "t-SNE 1" and "t-SNE (neighbours stay" in texts(at)
    assert len([c for t in spec["data"] for c in _array(t["customdata"]).reshape(-1, 3)]) == 500
