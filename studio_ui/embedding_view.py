"""Inspect's Map tab: the model's penultimate features of test images in 2-D (PCA), coloured by label or by
right/wrong; a click or a lasso shows the images behind the points."""

from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mnist_core.analysis import embedding
from mnist_core.models import store
from studio_ui import pictures

CHART = "insp_map"
ROWS = "insp_map_rows"  # the test rows chosen on the map (a click or a lasso)
CACHE = "insp_map_cache"
SIZES = (500, 1000, 2000, 5000)
SHOWN = 40
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")


def computed(model, data, n: int) -> tuple[dict, float]:
    """The map of n test rows for this model (kept in the session while the model and n stay the same)."""
    key = (model.name, store.modified(model.name), data.sha256, n)
    cached = st.session_state.get(CACHE)
    if cached and cached[0] == key:
        return cached[1], cached[2]
    t0 = time.perf_counter()
    emb = embedding.embedding_map(model, data.x, data.y, n)
    seconds = time.perf_counter() - t0
    st.session_state[CACHE] = (key, emb, seconds)
    st.session_state.pop(ROWS, None)
    return emb, seconds


def figure(emb: dict, names: list, by: str, noun: str) -> go.Figure:
    """One trace per label (or right / wrong); each point's customdata is its test row."""
    fig = go.Figure()
    if by == "label":
        groups = [(names[k], emb["label"] == k, PALETTE[k % len(PALETTE)]) for k in range(len(names))]
    else:
        groups = [("right", emb["correct"], "#9aa5b1"), ("wrong", ~emb["correct"], "#d62728")]
    for title, mask, colour in groups:
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        fig.add_trace(go.Scatter(
            x=emb["xy"][idx, 0], y=emb["xy"][idx, 1], mode="markers", name=title,
            marker={"size": 5 if by == "label" or title == "right" else 7, "color": colour, "opacity": 0.75},
            customdata=np.stack([emb["rows"][idx], emb["label"][idx], emb["pred"][idx]], axis=1),
            hovertemplate=(f"test image #%{{customdata[0]}}<br>{noun} %{{customdata[1]}}, read as "
                           "%{customdata[2]}<extra></extra>")))
    ex = emb["explained"]
    fig.update_layout(height=560, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.14, "yanchor": "top", "itemsizing": "constant"},
                      xaxis={"title": f"PCA 1 ({ex[0]:.0%} of the variance)", "zeroline": False},
                      yaxis={"title": f"PCA 2 ({ex[1]:.0%})", "zeroline": False})
    return fig


def rows_of(selection: dict | None) -> list[int]:
    """The test rows a plotly selection holds (each point's customdata[0])."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    rows = []
    for p in points:
        data = p.get("customdata")
        if isinstance(data, dict):  # a typed array arrives as {"0": row, "1": label, "2": reading}
            data = [data.get("0", data.get(0))]
        if isinstance(data, (list, tuple)) and data and data[0] is not None:
            rows.append(int(data[0]))
    return list(dict.fromkeys(rows))


def _on_select() -> None:
    st.session_state[ROWS] = rows_of(st.session_state.get(CHART))


def show(model, data, names: list, noun: str) -> None:
    c1, c2 = st.columns(2)
    n = c1.select_slider("Test images on the map", SIZES, value=2000, key="insp_map_n")
    by = c2.segmented_control("Colour by", ["label", "right or wrong"], default="label", key="insp_map_by") \
        or "label"
    with st.spinner(f"Reading {n:,} test images through '{model.name}'..."):
        emb, seconds = computed(model, data, int(n))
    wrong = int((~emb["correct"]).sum())
    st.caption(f"Each point is a test image, placed by {emb['source']} ({emb['dims']:,} numbers), reduced to two "
               f"dimensions with PCA ({sum(emb['explained']):.0%} of the variance shown; {seconds:.1f} s for "
               f"{len(emb['rows']):,} images). {wrong:,} of them are read wrong. Click a point, or pick the lasso "
               "above the map and draw round several, to see their images.")
    st.plotly_chart(figure(emb, names, by, noun), key=CHART, on_select=_on_select,
                    selection_mode=("points", "box", "lasso"),
                    config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage", "autoScale2d"]})
    rows = [r for r in st.session_state.get(ROWS) or [] if 0 <= r < len(data.y)]
    if not rows:
        return
    probs = np.asarray(model.predict_proba(data.x[rows[:SHOWN]]))
    st.markdown(f"**{len(rows):,}** chosen on the map" + (f", the first {SHOWN} shown" if len(rows) > SHOWN else "")
                + f". Under each: its test number, its {noun}, and what the model read.")
    st.image([pictures.crisp(data.x[r], 2) for r in rows[:SHOWN]], width=56,
             caption=[f"#{r} · {names[data.y[r]]} → {names[int(p.argmax())]}" for r, p in zip(rows, probs)])
