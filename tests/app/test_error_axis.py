"""The Models page's error-rate axis: readable ticks, each label once, every point on the chart."""

import math

from hypothesis import given, strategies as st

from studio_ui import charts


def test_a_model_with_no_validation_errors_gets_a_floor_labelled_as_such():
    """A fine-tuned model validated at 100% on 18 images: Plotly's own ticks printed '0.00%' eight times."""
    axis = charts.error_axis([0.0, 0.0, 0.0])
    assert axis["ticktext"] == ["0 to 0.01%", "0.02%", "0.03%", "0.05%"]
    assert axis["tickvals"] == [1e-4, 2e-4, 3e-4, 5e-4] and axis["type"] == "log"


def test_typical_mnist_error_rates_get_ticks_beside_them():
    assert charts.error_axis([0.003, 0.0026, 0.0031])["ticktext"] == ["0.1%", "0.2%", "0.3%", "0.5%"]
    wide = charts.error_axis([0.5, 0.1, 0.01, 0.002])
    assert wide["ticktext"] == ["0.2%", "0.5%", "1%", "2%", "5%", "10%", "20%", "50%"]
    assert charts.error_axis([0.9])["ticktext"] == ["20%", "30%", "50%", "100%"]  # never a tick past 100%
    assert charts.error_axis([1.0, 0.0])["ticktext"] == ["0 to 0.01%", "0.1%", "1%", "10%", "100%"]


def test_the_comparison_chart_uses_it():
    fig = charts.comparison({"a": {"epoch": [1, 2], "val_accuracy": [1.0, 1.0]}}, "val_accuracy", "t")
    assert list(fig.layout.yaxis.ticktext) == ["0 to 0.01%", "0.02%", "0.03%", "0.05%"]
    assert list(fig.data[0].y) == [1e-4, 1e-4]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_labels_are_unique_ordered_and_every_point_is_inside(rates):
    axis = charts.error_axis(rates)
    lo, hi = axis["range"]
    assert len(set(axis["ticktext"])) == len(axis["ticktext"]) >= 2
    assert axis["tickvals"] == sorted(axis["tickvals"]) and all(lo <= math.log10(t) <= hi for t in axis["tickvals"])
    assert hi - lo >= 1 - 1e-9
    for r in rates:
        assert lo < math.log10(max(r, charts.ERROR_FLOOR)) < hi


def test_short_runs_get_one_tick_per_epoch_on_both_comparison_charts():
    short = {"a": {"epoch": [1, 2, 3], "val_accuracy": [0.9, 0.95, 0.97], "val_loss": [0.3, 0.2, 0.1]}}
    assert charts.comparison(short, "val_accuracy", "t").layout.xaxis.dtick == 1
    assert charts.metric_lines(short, "epoch", "val_loss", "t").layout.xaxis.dtick == 1
    long = {"a": {"epoch": list(range(1, 31)), "val_accuracy": [0.99] * 30, "val_loss": [0.1] * 30}}
    assert charts.comparison(long, "val_accuracy", "t").layout.xaxis.dtick is None
    assert charts.metric_lines(long, "epoch", "val_loss", "t").layout.xaxis.dtick is None
