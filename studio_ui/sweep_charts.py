"""Plotly charts of a sweep (training/sweep_results.sweep_view's trials): parallel coordinates, curves, knob scatter."""

from __future__ import annotations

import plotly.graph_objects as go

STATE_COLOURS = {"completed": "#2e7d32", "running": "#1565c0", "stopped": "#9e9e9e", "failed": "#c62828",
                 "cancelled": "#6d4c41", "interrupted": "#ef6c00", "pending": "#bdbdbd"}


def _scored(trials: list[dict]) -> list[dict]:
    return [t for t in trials if t.get("last_val_accuracy") is not None]


def _dimension(label: str, values: list):
    """A parallel-coordinates axis; text values become ticks on an index axis."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return dict(label=label, values=[float(v) for v in values])
    names = sorted({str(v) for v in values})
    return dict(label=label, values=[names.index(str(v)) for v in values],
                tickvals=list(range(len(names))), ticktext=names)


def parallel_coordinates(trials: list[dict], knobs: list[str], height: int = 360) -> go.Figure:
    """One line per trial through its knob values to its validation accuracy, coloured by that accuracy."""
    scored = _scored(trials)
    fig = go.Figure()
    if scored:
        dims = [_dimension(k, [t["params"].get(k) for t in scored]) for k in knobs
                if all(k in t["params"] for t in scored)]
        acc = [t["last_val_accuracy"] for t in scored]
        dims.append(dict(label="val accuracy", values=acc))
        fig.add_trace(go.Parcoords(line=dict(color=acc, colorscale="Viridis", showscale=True,
                                             colorbar=dict(title="val acc")), dimensions=dims))
    else:
        fig.add_annotation(text="waiting for the first trial's validation accuracy", showarrow=False)
    fig.update_layout(height=height, margin=dict(l=60, r=40, t=50, b=20), title="Parameters and validation accuracy")
    return fig


def epoch_curves(trials: list[dict], epochs: int | None = None, height: int = 360) -> go.Figure:
    """Validation accuracy per epoch per trial; trials ASHA stopped end in a grey dashed line and an ✕."""
    fig = go.Figure()
    for t in trials:
        if not t["epochs"]:
            continue
        stopped = t["state"] == "stopped"
        colour = STATE_COLOURS.get(t["state"], "#555")
        label = f"trial {t['number']}" + (" (stopped early)" if stopped else f" ({t['state']})")
        fig.add_trace(go.Scatter(x=t["epochs"], y=t["val_accuracy"], mode="lines+markers", name=label,
                                 line=dict(color=colour, dash="dash" if stopped else "solid", width=1.5),
                                 marker=dict(size=5), hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.2%}}<extra></extra>"))
        if stopped:
            fig.add_trace(go.Scatter(x=[t["epochs"][-1]], y=[t["val_accuracy"][-1]], mode="markers", showlegend=False,
                                     marker=dict(symbol="x", size=11, color=colour), hoverinfo="skip"))
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=50, b=40), title="Validation accuracy per epoch",
                      xaxis=dict(title="epoch", dtick=1, range=[0.8, (epochs or 1) + 0.2] if epochs else None),
                      yaxis=dict(title="val accuracy", tickformat=".0%"), legend=dict(font=dict(size=10)))
    return fig


def knob_scatter(trials: list[dict], knob: str, log: bool = False, height: int = 300) -> go.Figure:
    """Each trial's value of one knob against its validation accuracy, coloured by its state."""
    fig = go.Figure()
    scored = [t for t in _scored(trials) if knob in t["params"]]
    for state in STATE_COLOURS:
        rows = [t for t in scored if t["state"] == state]
        if rows:
            fig.add_trace(go.Scatter(x=[t["params"][knob] for t in rows], y=[t["last_val_accuracy"] for t in rows],
                                     mode="markers", name=state, marker=dict(size=9, color=STATE_COLOURS[state]),
                                     text=[f"trial {t['number']}" for t in rows]))
    numeric = all(isinstance(t["params"][knob], (int, float)) for t in scored)
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=50, b=40), title=f"{knob} vs validation accuracy",
                      xaxis=dict(title=knob, type="log" if log and numeric else None),
                      yaxis=dict(title="val accuracy", tickformat=".0%"))
    return fig
