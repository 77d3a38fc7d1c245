"""Plotly charts of a sweep (training/sweep_results.sweep_view's trials): parallel coordinates, curves, knob scatter.

Every chart has an empty state (a message, no axes: plotly's default axes read -100% to 400%, or 1 to 1M
on a log axis), names trials t00, t01, and picks its percent ticks from the spread of the accuracies, so
73.1% and 73.4% do not both read "73%".
"""

from __future__ import annotations

import plotly.graph_objects as go

STATE_COLOURS = {"completed": "#2e7d32", "running": "#1565c0", "stopped": "#9e9e9e", "failed": "#c62828",
                 "cancelled": "#6d4c41", "interrupted": "#ef6c00", "pending": "#bdbdbd"}
WAITING = "waiting for the first trial's validation accuracy"


def _scored(trials: list[dict]) -> list[dict]:
    return [t for t in trials if t.get("last_val_accuracy") is not None]


def percent_format(values: list[float]) -> str:
    """The fewest decimals that keep neighbouring ticks apart: plotly puts about five ticks on an axis."""
    finite = [float(v) for v in values if v is not None]
    spread = max(finite) - min(finite) if len(finite) > 1 else 0.0
    return ".0%" if spread >= 0.1 else ".1%" if spread >= 0.01 else ".2%"


def placeholder(title: str, height: int, text: str = WAITING) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=14, color="#666"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, margin=dict(l=20, r=20, t=50, b=20), title=title)
    return fig


def _dimension(label: str, values: list):
    """A parallel-coordinates axis; text values become ticks on an index axis."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return dict(label=label, values=[float(v) for v in values])
    names = sorted({str(v) for v in values})
    return dict(label=label, values=[names.index(str(v)) for v in values],
                tickvals=list(range(len(names))), ticktext=names)


def parallel_coordinates(trials: list[dict], knobs: list[str], height: int = 400) -> go.Figure:
    """One line per trial through its knob values to its validation accuracy, coloured by that accuracy."""
    title = "Parameters and validation accuracy"
    scored = _scored(trials)
    if not scored:
        return placeholder(title, height)
    dims = [_dimension(k, [t["params"].get(k) for t in scored]) for k in knobs
            if all(k in t["params"] for t in scored)]
    acc = [t["last_val_accuracy"] for t in scored]
    dims.append(dict(label="val accuracy", values=acc, tickformat=percent_format(acc)))
    fig = go.Figure(go.Parcoords(line=dict(color=acc, colorscale="Viridis", showscale=True,
                                           colorbar=dict(title="val acc", tickformat=percent_format(acc))),
                                 dimensions=dims, labelangle=-15, labelside="bottom"))
    fig.update_layout(height=height, margin=dict(l=70, r=70, t=60, b=50), title=title)
    return fig


def epoch_curves(trials: list[dict], epochs: int | None = None, height: int = 360) -> go.Figure:
    """Validation accuracy per epoch per trial; trials ASHA stopped end in a grey dashed line and an ✕."""
    title = "Validation accuracy per epoch"
    shown = [t for t in trials if t["epochs"]]
    if not shown:
        return placeholder(title, height)
    fig = go.Figure()
    for t in shown:
        stopped = t["state"] == "stopped"
        colour = STATE_COLOURS.get(t["state"], "#555")
        label = t["label"] + (" (stopped early)" if stopped else f" ({t['state']})")
        fig.add_trace(go.Scatter(x=t["epochs"], y=t["val_accuracy"], mode="lines+markers", name=label,
                                 line=dict(color=colour, dash="dash" if stopped else "solid", width=1.5),
                                 marker=dict(size=5), hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.2%}}<extra></extra>"))
        if stopped:
            fig.add_trace(go.Scatter(x=[t["epochs"][-1]], y=[t["val_accuracy"][-1]], mode="markers", showlegend=False,
                                     marker=dict(symbol="x", size=11, color=colour), hoverinfo="skip"))
    accs = [a for t in shown for a in t["val_accuracy"] if a is not None]
    last = max(epochs or 1, max(e for t in shown for e in t["epochs"]))
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=50, b=40), title=title,
                      xaxis=dict(title="epoch", dtick=1, range=[0.8, last + 0.2]),
                      yaxis=dict(title="val accuracy", tickformat=percent_format(accs)), legend=dict(font=dict(size=10)))
    return fig


def knob_scatter(trials: list[dict], knob: str, log: bool = False, height: int = 300) -> go.Figure:
    """Each trial's value of one knob against its validation accuracy, coloured by its state."""
    title = f"{knob} vs validation accuracy"
    scored = [t for t in _scored(trials) if knob in t["params"]]
    if not scored:
        return placeholder(title, height)
    fig = go.Figure()
    for state in STATE_COLOURS:
        rows = [t for t in scored if t["state"] == state]
        if rows:
            fig.add_trace(go.Scatter(x=[t["params"][knob] for t in rows], y=[t["last_val_accuracy"] for t in rows],
                                     mode="markers", name=state, marker=dict(size=9, color=STATE_COLOURS[state]),
                                     text=[t["label"] for t in rows],
                                     hovertemplate="%{text}: " + knob + " %{x}, %{y:.2%}<extra></extra>"))
    values = [t["params"][knob] for t in scored]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=50, b=40), title=title,
                      xaxis=dict(title=knob, type="log" if log and numeric and min(values) > 0 else None),
                      yaxis=dict(title="val accuracy",
                                 tickformat=percent_format([t["last_val_accuracy"] for t in scored])))
    return fig
