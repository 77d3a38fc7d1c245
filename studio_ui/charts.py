"""Plotly figures for the pages. Pure functions: data in, figure out."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DIGITS = [str(d) for d in range(10)]
COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
          "#eeca3b")


def _compact(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    # The title sits at the very top and the legend in its own row between title and plot.
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=75 if title else 10, b=10),
                      title=dict(text=title, y=0.99, yanchor="top") if title else None,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def image(img: np.ndarray, title: str | None = None, colorscale: str = "gray", zmin: float | None = 0.0,
          zmax: float | None = 1.0, height: int = 320, showscale: bool = False, hover: str = "value") -> go.Figure:
    """A 2-D array as square pixels (NaN cells stay blank: tile separators)."""
    fig = go.Figure(go.Heatmap(z=img, colorscale=colorscale, zmin=zmin, zmax=zmax, showscale=showscale,
                               hovertemplate=f"row %{{y}}, col %{{x}}<br>{hover} %{{z:.3f}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return _compact(fig, height, title)


def signed_image(img: np.ndarray, title: str | None = None, height: int = 320) -> go.Figure:
    """Weights: blue negative, red positive, white zero, symmetric scale."""
    top = float(np.nanmax(np.abs(img))) if np.isfinite(img).any() else 1.0
    return image(img, title, colorscale="RdBu_r", zmin=-top, zmax=top, height=height, showscale=True,
                 hover="weight")


def image_row(images: np.ndarray, titles: list[str], colorscale: str = "gray", height: int = 170,
              zmax: float | None = None) -> go.Figure:
    """Several 28x28 images side by side, each with a title (e.g. the mean digit images)."""
    fig = make_subplots(rows=1, cols=len(images), subplot_titles=titles, horizontal_spacing=0.01)
    for i, img in enumerate(images):
        fig.add_trace(go.Heatmap(z=img, colorscale=colorscale, showscale=False, zmin=0,
                                 zmax=zmax if zmax is not None else float(np.max(images)),
                                 hovertemplate="%{z:.2f}<extra></extra>"), 1, i + 1)
    fig.update_yaxes(autorange="reversed", visible=False)
    fig.update_xaxes(visible=False)
    for i in range(len(images)):
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=1, col=i + 1)
    fig.update_annotations(font_size=15)
    fig = _compact(fig, height)
    fig.update_layout(margin=dict(t=30, b=0))
    return fig


def class_balance(counts: dict[str, np.ndarray]) -> go.Figure:
    fig = go.Figure([go.Bar(name=split, x=DIGITS, y=c, text=c, textposition="outside", cliponaxis=False)
                     for split, c in counts.items()])
    fig.update_layout(barmode="group", xaxis_title="digit", yaxis_title="images")
    fig.update_xaxes(type="category")
    return _compact(fig, 320)


def probabilities(probs: np.ndarray, title: str | None = None, height: int = 260) -> go.Figure:
    """All ten class probabilities, the winner highlighted."""
    probs = np.asarray(probs, dtype=float)
    best = int(probs.argmax())
    colors = ["#e45756" if d == best else "#4c78a8" for d in range(10)]
    fig = go.Figure(go.Bar(x=DIGITS, y=probs, marker_color=colors, text=[f"{p:.0%}" for p in probs],
                           textposition="outside", hovertemplate="digit %{x}: %{y:.3f}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", title="probability")
    fig.update_xaxes(title="digit", type="category")
    return _compact(fig, height, title)


def confusion(cm: np.ndarray, selected: tuple[int, int] | None = None, title: str | None = None) -> go.Figure:
    """Rows true, columns predicted, log colour so the off-diagonal errors show.

    Plotly heatmaps emit no selection events, so an invisible marker sits on
    every cell: clicking a cell selects that marker (curve 1), whose
    customdata carries (true, predicted).
    """
    cm = np.asarray(cm)
    fig = go.Figure(go.Heatmap(z=np.log10(cm + 1), x=DIGITS, y=DIGITS, text=cm, texttemplate="%{text}",
                               colorscale="Blues", showscale=False, hoverinfo="skip"))
    t, p = np.meshgrid(range(10), range(10), indexing="ij")
    fig.add_trace(go.Scatter(
        x=[DIGITS[i] for i in p.ravel()], y=[DIGITS[i] for i in t.ravel()], mode="markers",
        marker=dict(size=28, opacity=0.01, symbol="square", color="#000"),
        customdata=np.stack([t.ravel(), p.ravel(), cm.ravel()], axis=1),
        hovertemplate="true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]} images<extra></extra>",
        selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)), showlegend=False))
    if selected is not None:
        fig.add_shape(type="rect", x0=selected[1] - 0.5, x1=selected[1] + 0.5, y0=selected[0] - 0.5,
                      y1=selected[0] + 0.5, line=dict(color="#e45756", width=3))
    fig.update_yaxes(autorange="reversed", title="true digit", type="category")
    fig.update_xaxes(title="predicted digit", side="top", type="category")
    fig.update_layout(clickmode="event+select", dragmode=False)
    return _compact(fig, 460, title)


def metric_lines(series: dict[str, dict[str, list[float]]], x_key: str, metric: str, title: str,
                 height: int = 300, percent: bool = False) -> go.Figure:
    """One line per named series (several models' curves overlaid)."""
    fig = go.Figure()
    for i, (name, data) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=data[x_key], y=data[metric], name=name, mode="lines+markers",
                                 line=dict(color=COLORS[i % len(COLORS)])))
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(tickformat=".1%" if percent else None)
    return _compact(fig, height, title)


def train_vs_val(curves: dict[str, list[float]], height: int = 320) -> go.Figure:
    """Loss and accuracy per epoch, train solid and validation dashed."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss per epoch", "accuracy per epoch"),
                        horizontal_spacing=0.12)
    for col, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, dash, color in (("", "solid", "#4c78a8"), ("val_", "dash", "#f58518")):
            y = curves.get(prefix + metric) or []
            if not any(not math.isnan(v) for v in y):
                continue
            fig.add_trace(go.Scatter(x=curves["epoch"], y=y, mode="lines+markers", name=("validation" if prefix else "train"),
                                     line=dict(dash=dash, color=color), showlegend=col == 1,
                                     legendgroup=prefix or "train"), 1, col)
    fig.update_xaxes(title="epoch", dtick=1 if len(curves.get("epoch", [])) <= 20 else None)
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    fig = _compact(fig, height)
    fig.update_layout(margin=dict(t=40, b=10), legend=dict(orientation="h", y=-0.3, x=0.5, xanchor="center",
                                                          yanchor="top"))
    return fig


def batch_curves(batches: dict[str, list[float]], height: int = 300) -> go.Figure:
    """Per-batch loss and accuracy against fractional epochs (a live run's chart)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss per batch", "accuracy per batch"),
                        horizontal_spacing=0.12)
    fig.add_trace(go.Scatter(x=batches["x"], y=batches["loss"], mode="lines", name="loss",
                             line=dict(color="#4c78a8"), showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=batches["x"], y=batches["accuracy"], mode="lines", name="accuracy",
                             line=dict(color="#54a24b"), showlegend=False), 1, 2)
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig = _compact(fig, height)
    fig.update_layout(margin=dict(t=40))
    return fig


def per_class(rows: list[dict]) -> go.Figure:
    """Precision, recall and F1 per digit as grouped bars."""
    fig = go.Figure([go.Bar(name=m, x=[str(r["digit"]) for r in rows], y=[r[m] for r in rows])
                     for m in ("precision", "recall", "f1")])
    low = min((min(r["precision"], r["recall"], r["f1"]) for r in rows), default=0.0)
    fig.update_yaxes(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%")
    fig.update_xaxes(title="digit", type="category")
    fig.update_layout(barmode="group")
    return _compact(fig, 300)


def saliency(img: np.ndarray, heat: np.ndarray, height: int = 320) -> go.Figure:
    """The input in grey with the saliency map over it in translucent red-yellow."""
    fig = go.Figure([
        go.Heatmap(z=np.asarray(img).reshape(28, 28), colorscale="gray", zmin=0, zmax=1, showscale=False,
                   hoverinfo="skip"),
        go.Heatmap(z=np.where(heat > 0.05, heat, np.nan), colorscale="Hot", zmin=0, zmax=1, opacity=0.65,
                   showscale=True, hovertemplate="saliency %{z:.2f}<extra></extra>"),
    ])
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False, constrain="domain")
    return _compact(fig, height)
