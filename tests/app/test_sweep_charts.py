"""Sweep charts: an empty state instead of nonsense axes, short trial names, ticks that tell results apart."""

from mnist_core.training import sweep_results
from studio_ui import sweep_charts


def _trials(accs):
    events = []
    for n, acc in enumerate(accs):
        tid = f"{n:040x}"  # Ray's ids are long; the page must never show them
        events.append({"type": "trial_state", "trial": tid, "state": "completed", "number": n,
                       "params": {"lr": 10.0 ** -(n + 2), "model": "fast"}})
        events.append({"type": "trial_result", "trial": tid, "epoch": 1, "val_accuracy": acc, "val_loss": 1.0})
    return sweep_results.trials_from_events(events, "completed")


def test_no_results_yet_is_a_message_not_axes():
    for fig in (sweep_charts.parallel_coordinates([], ["lr"]), sweep_charts.epoch_curves([], 3),
                sweep_charts.knob_scatter([], "lr", log=True)):
        assert not fig.data
        assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
        assert fig.layout.annotations[0].text == sweep_charts.WAITING


def test_trials_are_named_t00_t01():
    trials = _trials([0.731, 0.734])
    assert [t["label"] for t in trials] == ["t00", "t01"]
    curves = sweep_charts.epoch_curves(trials, 1)
    assert [d.name for d in curves.data] == ["t00 (completed)", "t01 (completed)"]
    scatter = sweep_charts.knob_scatter(trials, "lr", log=True)
    assert list(scatter.data[0].text) == ["t00", "t01"] and scatter.layout.xaxis.type == "log"
    view = {"state": "completed", "counts": sweep_results.counts(trials, 2), "best": sweep_results.rank(trials)[0]}
    assert sweep_results.headline(view).endswith("best val accuracy 73.40% (t01)")


def test_close_accuracies_get_enough_decimals():
    assert sweep_charts.percent_format([0.731, 0.734]) == ".2%"
    assert sweep_charts.percent_format([0.73, 0.76]) == ".1%"
    assert sweep_charts.percent_format([0.5, 0.97]) == ".0%"
    fig = sweep_charts.epoch_curves(_trials([0.731, 0.734]), 1)
    assert fig.layout.yaxis.tickformat == ".2%"
    par = sweep_charts.parallel_coordinates(_trials([0.731, 0.734]), ["lr", "model"])
    assert [d.label for d in par.data[0].dimensions] == ["lr", "model", "val accuracy"]
    assert par.data[0].dimensions[-1].tickformat == ".2%"
