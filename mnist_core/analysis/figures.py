"""The figures every surface shares (pages, the offline HTML report, the fine-tuning panel): plotly only,
UI-free, so a confusion matrix or a per-class chart reads the same wherever it is drawn."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# One palette for every chart in the studio (plotly's default blue/orange, then Tableau 10).
COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
          "#eeca3b")
DIGITS = [str(d) for d in range(10)]


def class_labels(k: int, names=None) -> list[str]:
    return [str(n) for n in names] if names is not None else [str(i) for i in range(k)]


def confusion(cm: np.ndarray, selected: tuple[int, int] | None = None, names=None, noun: str = "digit",
              columns=None, clickable: bool = True) -> go.Figure:
    """Rows true, columns predicted, log colour so the off-diagonal errors show; axes named by class.

    columns: the column labels when there are more columns than classes (a batch's last column counts
    the images refused as "not a digit"). clickable: plotly heatmaps emit no selection events, so an
    invisible marker sits on every cell; clicking one selects that marker (curve 1), whose x and y are
    the cell's labels. The offline report has nothing to click and leaves them out.
    """
    cm = np.asarray(cm)
    k, c = cm.shape
    labels = class_labels(k, names)
    across = [str(n) for n in columns] if columns is not None else labels
    fig = go.Figure(go.Heatmap(z=np.log10(cm + 1), x=across, y=labels, text=cm, texttemplate="%{text}",
                               colorscale="Blues", showscale=False, customdata=cm, hoverinfo="skip" if clickable
                               else None, hovertemplate=None if clickable else
                               "true %{y}, answered %{x}: %{customdata} images<extra></extra>"))
    if clickable:
        _cell_markers(fig, cm, labels, across)
    if selected is not None:
        fig.add_shape(type="rect", x0=selected[1] - 0.5, x1=selected[1] + 0.5, y0=selected[0] - 0.5,
                      y1=selected[0] + 0.5, line=dict(color=COLORS[3], width=3))
    fig.update_yaxes(autorange="reversed", title=f"true {noun}", type="category")
    fig.update_xaxes(title=f"predicted {noun}" if c == k else f"answer ({across[-1]}: refused)", side="top",
                     type="category")
    if c > k:  # the refusals' label on two short lines, so a phone's narrow columns need not tilt it
        fig.update_xaxes(tickvals=across, ticktext=across[:k] + [across[-1].replace(" ", "<br>", 1)
                                                                 .replace(" ", "&nbsp;")])
    fig.update_layout(height=460 if k <= 10 else 40 * k + 60)
    return fig


def _cell_markers(fig: go.Figure, cm: np.ndarray, labels: list[str], across: list[str]) -> None:
    k, c = cm.shape
    t, p = np.meshgrid(range(k), range(c), indexing="ij")
    fig.add_trace(go.Scatter(
        x=[across[i] for i in p.ravel()], y=[labels[i] for i in t.ravel()], mode="markers",
        marker=dict(size=28, opacity=0.01, symbol="square", color="#000"), customdata=cm.ravel(),
        hovertemplate="true %{y}, predicted %{x}: %{customdata} images<extra></extra>",
        selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)), showlegend=False))
    fig.update_layout(clickmode="event+select", dragmode=False)


def per_class(rows: list[dict], names=None, noun: str = "digit") -> go.Figure:
    """Precision, recall and F1 per class (evaluate.per_class rows) as grouped bars, on a 0-100% axis
    zoomed to the lowest bar so that 97% and 99% do not look alike."""
    labels = [str(names[r["digit"]]) if names is not None else str(r.get("class_name", r["digit"])) for r in rows]
    fig = go.Figure([go.Bar(name=m, x=labels, y=[r[m] for r in rows], marker_color=COLORS[i])
                     for i, m in enumerate(("precision", "recall", "f1"))])
    low = min((min(r["precision"], r["recall"], r["f1"]) for r in rows), default=0.0)
    fig.update_yaxes(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%")
    fig.update_xaxes(title=noun, type="category")
    fig.update_layout(barmode="group", height=300)
    return fig


def before_after(per_class_share: dict, noun: str = "digit") -> go.Figure:
    """Held-out accuracy per class before and after a fine-tune: {class: {"before": a, "after": b}}."""
    classes = sorted(per_class_share, key=lambda c: (len(str(c)), str(c)))
    fig = go.Figure([go.Bar(name=when, x=[str(c) for c in classes], y=[per_class_share[c][when] for c in classes],
                            text=[f"{per_class_share[c][when]:.0%}" for c in classes], marker_color=COLORS[i])
                     for i, when in enumerate(("before", "after"))])
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    fig.update_layout(barmode="group", height=260, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"Held-out accuracy per {noun}", xaxis_title=noun)
    return fig
