"""Plotly figures for the pages. Pure functions: data in, figure out."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_core.analysis import figures
from mnist_core.analysis.figures import COLORS, DIGITS


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


def probabilities(probs: np.ndarray, title: str | None = None, height: int = 260, names=None,
                  noun: str = "digit") -> go.Figure:
    """Every class probability (ten digits, or a shapes model's classes by name), the winner highlighted."""
    probs = np.asarray(probs, dtype=float)
    labels = [str(n) for n in names] if names is not None else DIGITS[:len(probs)]
    best = int(probs.argmax())
    colors = ["#e45756" if d == best else "#4c78a8" for d in range(len(probs))]
    fig = go.Figure(go.Bar(x=labels, y=probs, marker_color=colors, text=[f"{p:.0%}" for p in probs],
                           textposition="outside", hovertemplate=noun + " %{x}: %{y:.3f}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", title="probability")
    fig.update_xaxes(title=noun, type="category")
    return _compact(fig, height, title)


def confusion(cm: np.ndarray, selected: tuple[int, int] | None = None, title: str | None = None, names=None,
              noun: str = "digit", columns=None) -> go.Figure:
    """The shared confusion matrix (analysis.figures), clickable, in the pages' compact frame."""
    fig = figures.confusion(cm, selected, names=names, noun=noun, columns=columns)
    return _compact(fig, fig.layout.height, title)


def _epoch_dtick(epochs: int) -> int | None:
    """A tick per epoch on a short run (Plotly's own put ticks at epoch 1.5 and 2.5); its own choice on a long one."""
    return 1 if epochs <= 20 else None


def metric_lines(series: dict[str, dict[str, list[float]]], x_key: str, metric: str, title: str,
                 height: int = 300, percent: bool = False) -> go.Figure:
    """One line per named series (several models' curves overlaid)."""
    fig = go.Figure()
    for i, (name, data) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=data[x_key], y=data[metric], name=name, mode="lines+markers",
                                 line=dict(color=COLORS[i % len(COLORS)])))
    fig.update_xaxes(title="epoch", dtick=_epoch_dtick(max((len(d[x_key]) for d in series.values()), default=0)))
    fig.update_yaxes(tickformat=".1%" if percent else None)
    return _compact(fig, height, title)


def per_class(rows: list[dict], names=None, noun: str = "digit") -> go.Figure:
    """Precision, recall and F1 per class (analysis.figures), in the pages' compact frame."""
    return _compact(figures.per_class(rows, names, noun), 300)


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


# --- live training curves: one metric per chart, two charts a row --------------------------------

def fitted_range(values: list[float], x: list[float] | None = None, recent: float = 0.7,
                 percent: bool = False) -> list[float] | None:
    """A y range that fits the latest `recent` share of the run (by x), so early values do not flatten it.

    The first batches' 10% accuracy or loss of 2.3 would otherwise fix the axis
    for the whole run; they stay on the chart, off the top or bottom.
    """
    y = np.asarray(values, dtype=float)
    if x is not None and len(x) == len(y) and len(y):
        xs = np.asarray(x, dtype=float)
        y = y[xs >= xs.min() + (1 - recent) * (xs.max() - xs.min())]
    y = y[np.isfinite(y)]
    if len(y) < 2:
        return None
    lo, hi = float(y.min()), float(y.max())
    pad = max((hi - lo) * 0.08, 1e-3 if percent else 1e-4)
    lo, hi = lo - pad, hi + pad
    return [max(lo, 0.0), min(hi, 1.002)] if percent else [max(lo, 0.0), hi]


def curve(x: list[float], lines: dict[str, list[float]], title: str, percent: bool = False,
          y_range: list[float] | None = None, height: int = 300, dashes: dict[str, str] | None = None,
          raw: dict[str, list[float]] | None = None, x_title: str = "epoch",
          epoch_starts: list[float] | None = None) -> go.Figure:
    """One metric: a line per series (raw values faint behind smoothed ones, as TensorBoard).

    A percent axis never leaves 0-100% (plotly pads a single point to -50%..150%). epoch_starts: where
    each epoch after the first begins on a step axis, drawn as gridlines.
    """
    fig = go.Figure()
    for i, (name, y) in enumerate(lines.items()):
        color = COLORS[i % len(COLORS)]
        if raw and name in raw:
            fig.add_trace(go.Scatter(x=x, y=raw[name], mode="lines", line=dict(color=color, width=1), opacity=0.25,
                                     showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines" if len(x) > 30 else "lines+markers", name=name,
                                 line=dict(color=color, dash=(dashes or {}).get(name, "solid"))))
    for k, start in enumerate((epoch_starts or [])[:EPOCH_LINES], start=2):
        fig.add_vline(x=start, line=dict(color="#bbb", width=1, dash="dot"),
                      annotation=dict(text=f"epoch {k}", font=dict(size=10, color="#888")) if k <= 6 else None)
    fig.update_xaxes(title=x_title, dtick=_epoch_dtick(len(x)) if x_title == "epoch" else None)
    if percent:
        lo, hi = y_range or (0.0, 1.0)
        y_range = [max(0.0, lo), min(1.0, hi)] if hi > lo else [0.0, 1.0]
    fig.update_yaxes(tickformat=".1%" if percent else None, range=y_range)
    fig = _compact(fig, height, title)
    fig.update_layout(margin=dict(t=60), legend=dict(y=1.0, yanchor="bottom"))
    return fig


EPOCH_LINES = 60  # beyond that many epochs, gridlines would hide the curve


def bars(values: np.ndarray, labels: list[str], title: str, height: int = 320, value_title: str = "",
         label_title: str = "") -> go.Figure:
    """A value per labelled item (e.g. a tiny feature map's mean activation per channel)."""
    fig = go.Figure(go.Bar(x=labels, y=np.asarray(values, dtype=float), marker_color="#4c78a8",
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_xaxes(type="category", title=label_title)
    fig.update_yaxes(title=value_title)
    return _compact(fig, height, title)


def saliency_map(heat: np.ndarray, img: np.ndarray | None = None, title: str | None = None,
                 height: int = 320) -> go.Figure:
    """The saliency map on its own, with a colour scale; the digit's outline drawn over it, not hiding it."""
    fig = go.Figure(go.Heatmap(z=np.asarray(heat).reshape(28, 28), colorscale="Hot", zmin=0, zmax=1,
                               showscale=True, colorbar=dict(title="saliency", thickness=12),
                               hovertemplate="row %{y}, col %{x}<br>saliency %{z:.2f}<extra></extra>"))
    if img is not None:
        fig.add_trace(go.Contour(z=np.asarray(img, dtype=float).reshape(28, 28), showscale=False,
                                 contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                                 line=dict(color="#4fc3f7", width=1.5), hoverinfo="skip", name="digit outline"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return _compact(fig, height, title)


# --- comparing saved models ---------------------------------------------------------------------

SCALES = ("error rate, log scale", "accuracy, top range", "accuracy, full range")


ERROR_FLOOR = 1e-4  # a log axis cannot show 0: an epoch with no errors is drawn here, labelled "0 to 0.01%"


def _percent(rate: float) -> str:
    """0.0001 -> '0.01%', 0.002 -> '0.2%', 0.05 -> '5%': as many decimals as the 1-2-5 step needs."""
    decimals = max(0, -math.floor(math.log10(rate * 100) + 1e-9))
    return f"{rate * 100:.{decimals}f}%"


def error_axis(rates: list[float]) -> dict:
    """A log axis for error rates: ticks at 1, 2, (3,) 5 per decade, each labelled once, spanning at least 10x.

    Plotly's own log ticks, formatted as percentages, printed "0.00%" and "0.01%" many times over when
    every rate sat near the floor (a fine-tuned model validating at 100% on a small slice).
    """
    shown = [max(r, ERROR_FLOOR) for r in rates if r == r] or [ERROR_FLOOR]
    lo, hi = math.log10(min(shown)), math.log10(max(shown))
    pad = max(0.1, (1 - (hi - lo)) / 2)  # a narrow span widens to a decade, centred on the data...
    lo, hi = lo - pad, hi + pad
    bottom, top = math.log10(ERROR_FLOOR) - 0.1, 0.05  # ...then slides inside the floor and just over 100%
    if lo < bottom:
        lo, hi = bottom, hi + bottom - lo
    if hi > top:
        lo, hi = max(min(lo, top - 1), bottom), top
    # A short axis gets ticks nearer its data; a long one (a first epoch at 50%) one a decade.
    steps = (1, 2, 3, 5) if hi - lo < 1.5 else (1, 2, 5) if hi - lo < 3 else (1,)
    ticks = [float(f"{m}e{e}") for e in range(math.floor(lo), math.ceil(hi) + 1) for m in steps]  # exact decimals
    ticks = [t for t in ticks if lo <= math.log10(t) <= hi and ERROR_FLOOR <= t <= 1]
    floor_hit = any(r <= ERROR_FLOOR for r in rates if r == r)
    text = ["0 to " + _percent(t) if floor_hit and t == ERROR_FLOOR else _percent(t) for t in ticks]
    return dict(type="log", range=[lo, hi], tickvals=ticks, ticktext=text, title="error rate (log scale)")


def comparison(series: dict[str, dict[str, list[float]]], metric: str, title: str, scale: str = SCALES[0],
               finals: dict[str, float] | None = None, height: int = 360) -> go.Figure:
    """Models' accuracy curves overlaid, readable at the top.

    scale: error rate (1 - accuracy) on a log axis, where 0.31% and 0.26% are
    far apart; accuracy zoomed to the range after each model's first epoch; or
    accuracy in full. finals: models without epochs (ensembles) drawn as a
    dotted level line at their final accuracy.
    """
    error = scale == SCALES[0]
    fig, later, rates = go.Figure(), [], []
    for i, (name, data) in enumerate(series.items()):
        acc = np.asarray(data[metric], dtype=float)
        later.extend(acc[1:] if len(acc) > 1 else acc)
        y = np.clip(1 - acc, ERROR_FLOOR, None) if error else acc
        rates.extend(1 - acc)
        fig.add_trace(go.Scatter(x=data["epoch"], y=y, name=name, mode="lines+markers",
                                 line=dict(color=COLORS[i % len(COLORS)]), customdata=acc,
                                 hovertemplate=f"{name}<br>epoch %{{x}}: accuracy %{{customdata:.2%}}<extra></extra>"))
    last_epoch = max((max(d["epoch"]) for d in series.values() if d["epoch"]), default=1)
    for j, (name, acc) in enumerate((finals or {}).items(), start=len(series)):
        later.append(acc)
        y = max(1 - acc, ERROR_FLOOR) if error else acc
        rates.append(1 - acc)
        fig.add_trace(go.Scatter(x=[1, max(last_epoch, 2)], y=[y, y], name=f"{name} (final)", mode="lines",
                                 line=dict(color=COLORS[j % len(COLORS)], dash="dot", width=2),
                                 hovertemplate=f"{name}: final test accuracy {acc:.2%}<extra></extra>"))
    if error:
        fig.update_yaxes(**error_axis(rates))
    else:
        fig.update_yaxes(tickformat=".1%", title="accuracy",
                         range=fitted_range(later, percent=True, recent=1.0) if scale == SCALES[1] else None)
    fig.update_xaxes(title="epoch", dtick=_epoch_dtick(last_epoch))
    fig = _compact(fig, height, title)
    fig.update_layout(margin=dict(t=60), legend=dict(y=1.0, yanchor="bottom"))
    return fig
