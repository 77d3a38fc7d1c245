"""Inspect's Map tab: the model's penultimate features of test images in 2-D (PCA or t-SNE), coloured by label
or by right/wrong, with the user's own handwriting (the personal collection) on the same map; a click or a
lasso shows the images behind the points. Plotly's hover cannot show a picture, so a click does."""

from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mnist_core.analysis import embedding
from mnist_core.handwriting import personal
from mnist_core.models import store
from mnist_core.training import finetune_data
from studio_ui import pictures

CHART = "insp_map"
ROWS = "insp_map_rows"  # the test rows chosen on the map (a click or a lasso)
CACHE = "insp_map_cache"
SIZES = (500, 1000, 2000, 5000)
TSNE_SIZES = (500, 1000)  # exact t-SNE is O(n^2) a step: seconds at 500, tens of seconds at 2,000 here
SHOWN = 40
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")


def computed(model, data, n: int, method: str, own: tuple | None) -> tuple[dict, float]:
    """The map of n test rows for this model (kept in the session while nothing it depends on changes)."""
    key = (model.name, store.modified(model.name), data.sha256, n, method, None if own is None else len(own[1]))
    cached = st.session_state.get(CACHE)
    if cached and cached[0] == key:
        return cached[1], cached[2]
    t0 = time.perf_counter()
    emb = embedding.embedding_map(model, data.x, data.y, n, method=method, own=own)
    seconds = time.perf_counter() - t0
    st.session_state[CACHE] = (key, emb, seconds)
    st.session_state.pop(ROWS, None)
    return emb, seconds


def own_handwriting(task: str) -> tuple | None:
    """The personal collection (drawings labelled on Draw) as model inputs, or None when it is empty."""
    if task != "digits" or not personal.items():
        return None
    samples = finetune_data.read_samples(personal.root(), "your collection")
    return (samples.x, samples.y) if len(samples.y) else None


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
    own = emb["own"]
    if len(own["label"]):  # customdata row -1: not a test image (a click on one shows nothing below)
        fig.add_trace(go.Scatter(
            x=own["xy"][:, 0], y=own["xy"][:, 1], mode="markers", name="your handwriting",
            marker={"size": 12, "symbol": "star", "color": "#111", "line": {"width": 1, "color": "#fff"}},
            customdata=np.stack([np.full(len(own["label"]), -1), own["label"], own["pred"]], axis=1),
            hovertemplate=f"your {noun} %{{customdata[1]}}, read as %{{customdata[2]}}<extra></extra>"))
    ex = emb["explained"]
    pca = emb["method"] == "PCA"
    fig.update_layout(height=560, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.14, "yanchor": "top", "itemsizing": "constant"},
                      xaxis={"title": f"PCA 1 ({ex[0]:.0%} of the variance)" if pca else "t-SNE 1",
                             "zeroline": False, "showticklabels": pca},
                      yaxis={"title": f"PCA 2 ({ex[1]:.0%})" if pca else "t-SNE 2", "zeroline": False,
                             "showticklabels": pca})
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


def show(model, data, names: list, noun: str, task: str = "digits") -> None:
    c1, c2, c3 = st.columns(3)
    method = c1.segmented_control("Map", embedding.METHODS, default="PCA", key="insp_map_method") or "PCA"
    sizes = SIZES if method == "PCA" else TSNE_SIZES
    if st.session_state.get("insp_map_n") not in sizes:
        st.session_state["insp_map_n"] = sizes[min(2, len(sizes) - 1)] if method == "PCA" else sizes[0]
    n = c2.select_slider("Test images on the map", sizes, key="insp_map_n")
    by = c3.segmented_control("Colour by", ["label", "right or wrong"], default="label", key="insp_map_by") \
        or "label"
    own = own_handwriting(task)
    if own is not None and not st.toggle(f"Show your handwriting ({len(own[1])} drawings from your collection)",
                                         True, key="insp_map_own"):
        own = None
    with st.spinner(f"Reading {n:,} test images through '{model.name}'"
                    + (" and laying them out with t-SNE (seconds)..." if method == "t-SNE" else "...")):
        emb, seconds = computed(model, data, int(n), method, own)
    wrong = int((~emb["correct"]).sum())
    how = (f"PCA ({sum(emb['explained']):.0%} of the variance shown)" if method == "PCA" else
           "t-SNE (neighbours stay neighbours; distances between clusters and the axes mean nothing)")
    st.caption(f"Each point is a test image, placed by {emb['source']} ({emb['dims']:,} numbers), reduced to two "
               f"dimensions with {how}; {seconds:.1f} s for {len(emb['rows']):,} images. {wrong:,} of them are "
               "read wrong. Click a point, or pick the lasso above the map and draw round several, to see their "
               "images." + (f" Stars: your {len(emb['own']['label'])} drawings, "
                            f"{int(emb['own']['correct'].sum())} read right; one far from the cluster of its "
                            f"{noun} is handwriting unlike MNIST's." if len(emb["own"]["label"]) else ""))
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
