"""Issue 23 item 6: per-batch charts against the global step with epochs as gridlines, percent axes in 0-100%."""

from mnist_core.training import runview
from studio_ui import charts, runs_panel


def _events(epochs: int, steps: int):
    return [{"type": "batch", "epoch": e, "step": s, "global_step": (e - 1) * steps + s, "loss": 1.0 / (e + s),
             "accuracy": 0.5} for e in range(1, epochs + 1) for s in range(1, steps + 1)]


def test_a_fine_tune_of_short_epochs_is_in_order_with_an_epoch_line_each():
    batches = runview.batch_series(_events(4, 3), None)  # what stacked at epoch 1: no steps per epoch known
    x, starts = runs_panel.step_axis(batches, 3)
    assert x == [float(i) for i in range(1, 13)]
    assert starts == [3.0, 6.0, 9.0]
    fig = charts.curve(x, {"loss": batches["loss"]}, "loss", x_title="training step", epoch_starts=starts)
    assert [s.x0 for s in fig.layout.shapes] == [3.0, 6.0, 9.0]
    assert [a.text for a in fig.layout.annotations] == ["epoch 2", "epoch 3", "epoch 4"]
    assert fig.layout.xaxis.title.text == "training step"


def test_events_without_global_steps_keep_fractional_epochs():
    batches = {"x": [0.5, 1.0], "global_step": [0, 0], "loss": [1.0, 0.5], "accuracy": [0.1, 0.2]}
    assert runs_panel.step_axis(batches, 2) == ([0.5, 1.0], [])


def test_a_percent_axis_stays_within_0_and_100_percent():
    one = charts.curve([1.0], {"train": [0.93]}, "accuracy per epoch", percent=True)
    assert tuple(one.layout.yaxis.range) == (0.0, 1.0) and one.layout.xaxis.dtick == 1
    wide = charts.curve([1, 2], {"train": [0.1, 0.9]}, "accuracy", percent=True, y_range=[-0.5, 1.5])
    assert tuple(wide.layout.yaxis.range) == (0.0, 1.0)
    loss = charts.curve([1, 2], {"train": [2.0, 1.0]}, "loss")
    assert loss.layout.yaxis.range is None  # only percent axes are held to 0-100%


def test_channel_bars_name_their_axis():
    """Issue 23 item 10: deep-layer bars read '#76 #17' with nothing to say what they count."""
    fig = charts.bars([0.5, 0.25], ["ch 76", "ch 17"], "conv 7", value_title="mean activation",
                      label_title="channel, most active first")
    assert list(fig.data[0].x) == ["ch 76", "ch 17"]
    assert fig.layout.xaxis.title.text == "channel, most active first"
    assert fig.layout.yaxis.title.text == "mean activation"
