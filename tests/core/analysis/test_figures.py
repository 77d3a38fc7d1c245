"""The shared figure builders: the pages, the offline report and the fine-tuning panel draw the same matrix."""

import numpy as np

from mnist_core.analysis import figures, report

CM = np.array([[5, 0, 1], [2, 7, 0]])  # two classes and a refusals column


def test_confusion_counts_labels_and_refusal_column():
    fig = figures.confusion(CM, names=["circle", "square"], noun="shape",
                            columns=["circle", "square", "not a shape"])
    heat = fig.data[0]
    assert heat.text.tolist() == CM.tolist()
    assert list(heat.x) == ["circle", "square", "not a shape"] and list(heat.y) == ["circle", "square"]
    assert fig.layout.xaxis.title.text == "answer (not a shape: refused)"
    assert fig.layout.yaxis.title.text == "true shape"
    assert list(fig.layout.xaxis.ticktext)[-1] == "not<br>a&nbsp;shape"
    clicks = fig.data[1]
    assert list(clicks.customdata) == [5, 0, 1, 2, 7, 0] and clicks.x[2] == "not a shape" and clicks.y[3] == "square"


def test_report_and_page_draw_one_matrix():
    page = figures.confusion(CM[:, :2])
    offline = report.confusion_figure(CM[:, :2])
    assert page.data[0].text.tolist() == offline.data[0].text.tolist()
    assert np.allclose(page.data[0].z, offline.data[0].z)
    assert len(offline.data) == 1, "a file has nothing to click: no invisible cell markers"
    assert page.layout.xaxis.title.text == "predicted digit" and offline.layout.xaxis.title.text == "predicted class"


def test_selected_cell_is_outlined():
    fig = figures.confusion(np.eye(3, dtype=int), selected=(2, 1))
    shape = fig.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (0.5, 1.5, 1.5, 2.5)


def test_per_class_names_values_and_zoomed_percent_axis():
    rows = [{"digit": 0, "precision": 1.0, "recall": 0.9, "f1": 0.947},
            {"digit": 1, "precision": 0.8, "recall": 1.0, "f1": 0.889}]
    fig = figures.per_class(rows, names=["zero", "one"])
    assert [list(b.x) for b in fig.data] == [["zero", "one"]] * 3
    assert list(fig.data[1].y) == [0.9, 1.0]
    assert tuple(fig.layout.yaxis.range) == (0.75, 1.0) and fig.layout.yaxis.tickformat == ".0%"


def test_before_after_orders_classes_numerically():
    share = {str(d): {"before": d / 10, "after": 1.0} for d in (10, 2, 0)}
    fig = figures.before_after(share)
    assert list(fig.data[0].x) == ["0", "2", "10"] and list(fig.data[0].y) == [0.0, 0.2, 1.0]
    assert [b.name for b in fig.data] == ["before", "after"]
