"""The Draw page's probability chart, built in 1 ms instead of 30: the same figure as charts.probabilities.

Plotly checks every property of a figure as it is built (its validators);
for a ten-bar chart that is about 30 ms of one core, on every stroke, in every
session, holding the GIL against the others. The figure's shape depends only
on the class count, names, height and whether it has a title: it is built
once through charts.probabilities, then each stroke fills in the numbers and
the title and wraps the result unchecked (`go.Figure(..., _validate=False)`,
Plotly's way to skip its validators). tests/app/test_light_charts.py holds it
equal to charts.probabilities, so the two never drift apart.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from studio_ui import charts


@lru_cache(maxsize=32)
def _shape(n: int, height: int, names: tuple | None, noun: str, titled: bool) -> dict:
    return charts.probabilities(np.eye(n)[0], title="-" if titled else None, height=height, names=names,
                                noun=noun).to_dict()


def probabilities(probs, title: str | None = None, height: int = 260, names=None, noun: str = "digit") -> go.Figure:
    """charts.probabilities(probs, title, height, names, noun), unchecked: it was checked when first built."""
    probs = np.asarray(probs, dtype=float)
    shape = _shape(len(probs), height, tuple(str(n) for n in names) if names is not None else None, noun,
                   title is not None)
    best = int(probs.argmax())
    bar = {**shape["data"][0], "y": probs, "text": [f"{p:.0%}" for p in probs],
           "marker": {**shape["data"][0]["marker"],
                      "color": ["#e45756" if d == best else "#4c78a8" for d in range(len(probs))]}}
    layout = shape["layout"]
    if title is not None:
        layout = {**layout, "title": {**layout["title"], "text": title}}
    return go.Figure({"data": [bar], "layout": layout}, _validate=False)
