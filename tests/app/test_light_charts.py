"""Draw's unchecked probability chart is the very figure charts.probabilities builds (studio_ui/light_charts.py)."""

from __future__ import annotations

import json

import numpy as np
import plotly.io
import pytest

from studio_ui import charts, light_charts


@pytest.mark.parametrize("kwargs", [
    {},
    {"title": "7 (93%)", "height": 240},
    {"title": "not a digit (the model's own guess shown)", "height": 220},
    {"title": "triangle (88%)", "height": 240, "names": ["ellipse", "rectangle", "triangle"], "noun": "shape"},
])
def test_the_light_chart_is_charts_probabilities(kwargs):
    rng = np.random.default_rng(len(kwargs))
    for _ in range(3):  # its shape is reused: each call's numbers and title are its own
        probs = rng.dirichlet(np.ones(len(kwargs.get("names") or range(10))))
        light = light_charts.probabilities(probs, **kwargs)
        same = charts.probabilities(probs, **kwargs)
        assert json.loads(plotly.io.to_json(light, validate=False)) == json.loads(plotly.io.to_json(same))
