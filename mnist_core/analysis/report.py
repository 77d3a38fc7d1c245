"""Self-contained HTML reports: one file that opens in any browser with no server and no network.

Plotly's JavaScript is inlined once (include_plotlyjs=True on the first
figure), images are PNG data URIs, and every piece of text that came from
outside (file names, model names, reasons) is HTML-escaped. Two reports:
a batch evaluation (evaluate_images' report, or evaluate_model's on the
MNIST test set) and a comparison of saved models from their cards.
"""

from __future__ import annotations

import base64
import io
import math
import os
import secrets
import time
from html import escape
from pathlib import Path

import numpy as np

from mnist_core.analysis import leaderboard
from mnist_core.analysis.figures import COLORS, confusion, per_class

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;
color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0} .headline{font-size:1.3rem;margin:1rem 0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem} th,td{border-bottom:1px solid #ddd;
padding:.3rem .6rem;text-align:left} th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
.mistakes{display:flex;flex-wrap:wrap;gap:.6rem} figure{margin:0;width:100px;font-size:.75rem;text-align:center;
word-break:break-all} figure img{width:84px;height:84px;image-rendering:pixelated;background:#000}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:1rem}
"""


# -- entry points --------------------------------------------------------------------
def batch_html(report: dict, inputs: np.ndarray | None = None, title: str | None = None) -> str:
    """A batch evaluation: accuracy with its interval, confusion matrix, per-class metrics, every
    mistake with the image the model read, every prediction, the skipped files and why.

    `report` is evaluate_images' (mistakes name their file) or evaluate_model's (mistakes carry an
    index); `inputs` are the model's inputs, aligned with report["predictions"] or with the
    evaluated array, and default to report["inputs"] (evaluate_images(keep_inputs=True)).
    """
    if hasattr(report, "to_json"):  # reading's BatchReport: its JSON form, with its own inputs unless given
        inputs = report.inputs if inputs is None else inputs
        report = report.to_json()
    inputs = report.get("inputs") if inputs is None else inputs
    model, source = report.get("model") or "?", report.get("source") or "the MNIST test set"
    parts = [_header(title or f"Batch evaluation: {model}", f"model {model} · {source}"),
             f'<p class="headline">{escape(_accuracy_line(report))}</p>']
    labelled = report.get("n") or 0
    figures = []
    if labelled:
        cm = np.asarray(report["confusion"])
        figures += [confusion_figure(cm, report.get("class_names"), report.get("confusion_columns")),
                    per_class_figure(report["per_class"])]
    parts.append(_charts(figures))
    if labelled:
        columns = report.get("confusion_columns") or []
        parts += ["<h2>Per class</h2>", _per_class_table(report["per_class"], *columns[-1:])]
    mistakes = report.get("mistakes") or []
    if labelled:
        parts += [f"<h2>Mistakes ({len(mistakes)})</h2>", _mistakes(mistakes, report, inputs)]
    predictions = report.get("predictions")
    if predictions:
        parts += [f"<h2>Every image ({len(predictions)})</h2>", _predictions_table(predictions)]
    skipped = report.get("skipped") or []
    parts.append(f"<h2>Skipped files ({len(skipped)})</h2>")
    parts.append(_table(["file", "reason"], [[s.get("file"), s.get("reason")] for s in skipped])
                 if skipped else "<p>No file was skipped.</p>")
    parts += [f"<p class=meta>{escape(note)}</p>" for note in report.get("notes") or []]
    return _page(title or f"Batch evaluation: {model}", parts)


def comparison_html(cards: list[dict], title: str = "Model comparison") -> str:
    """Saved models side by side: the leaderboard table and their learning curves."""
    rows = leaderboard.rows(cards)
    good = [r for r in rows if not r.get("error")]
    columns = list(leaderboard.COLUMNS)
    parts = [_header(title, f"{len(good)} models"),
             _table(columns + ["exports"], [[_cell(r.get(c), c) for c in columns] + [_exports(cards, r["name"])]
                                            for r in good])]
    broken = [r for r in rows if r.get("error")]
    if broken:
        parts += ["<h2>Unreadable models</h2>", _table(["name", "error"], [[r["name"], r["error"]] for r in broken])]
    by_name = {c.get("name"): c for c in cards}
    curves = {r["name"]: leaderboard.curves(by_name[r["name"]]) for r in good}
    curves = {name: c for name, c in curves.items() if c["epoch"]}
    figures = [accuracy_bars(good)]
    if curves:
        figures += [curves_figure(curves, "accuracy", percent=True), curves_figure(curves, "loss")]
    parts.append(_charts(figures))
    if not curves:
        parts.append("<p>No model has a per-epoch history (ensembles have none).</p>")
    return _page(title, parts)


def write(html: str, path: str | Path) -> Path:
    """Write a report atomically (a reader never sees half a file)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a file name such as report.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{secrets.token_hex(4)}-{path.name}"
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# -- figures (plotly only: the core never imports streamlit) ------------------------------
def confusion_figure(cm: np.ndarray, names=None, columns=None):
    """The pages' confusion matrix (analysis.figures), without the click targets a file has no use for."""
    fig = confusion(cm, names=names, noun="class", columns=columns, clickable=False)
    return _layout(fig, "Confusion matrix", 460)


def per_class_figure(rows: list[dict]):
    fig = per_class(rows, noun="class")
    return _layout(fig, "Precision, recall and F1 per class", 460)


def accuracy_bars(rows: list[dict]):
    import plotly.graph_objects as go

    rows = [r for r in rows if r.get("test_accuracy") is not None]
    fig = go.Figure(go.Bar(x=[r["name"] for r in rows], y=[r["test_accuracy"] for r in rows],
                           marker_color=COLORS[0], text=[f"{r['test_accuracy']:.2%}" for r in rows]))
    low = min((r["test_accuracy"] for r in rows), default=0.0)
    fig.update_yaxes(range=[max(0.0, low - 0.02), 1.0], tickformat=".1%", title="test accuracy")
    fig.update_xaxes(type="category")
    return _layout(fig, "Test accuracy", 380)


def curves_figure(curves: dict[str, dict], metric: str, percent: bool = False):
    """Validation (solid) and train (dotted) per epoch, one colour per model."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, c) in enumerate(curves.items()):
        for prefix, dash, label in (("val_", "solid", "validation"), ("", "dot", "train")):
            y = c.get(prefix + metric) or []
            if any(not math.isnan(v) for v in y):
                fig.add_trace(go.Scatter(x=c["epoch"], y=y, mode="lines+markers", name=f"{name} ({label})",
                                         line=dict(color=COLORS[i % len(COLORS)], dash=dash)))
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(tickformat=".1%" if percent else None, title=metric)
    return _layout(fig, f"{metric.capitalize()} per epoch (solid: validation, dotted: train)", 420)


def _layout(fig, title: str, height: int):
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=20, t=80, b=50), template="plotly_white")
    return fig


# -- pieces of HTML ------------------------------------------------------------------
def _page(title: str, parts: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _header(title: str, meta: str) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M %z")
    return f"<h1>{escape(title)}</h1><p class=meta>{escape(meta)} · made by MNIST Studio on {escape(stamp)}</p>"


def _charts(figures: list) -> str:
    if not figures:
        return ""
    # The first figure carries plotly.js inline; the others use it. No CDN, no network.
    html = [fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False,
                                                                            "responsive": True})
            for i, fig in enumerate(figures)]
    return '<div class="charts">' + "".join(f"<div>{h}</div>" for h in html) + "</div>"


def _accuracy_line(report: dict) -> str:
    if report.get("accuracy") is None or not report.get("n"):
        return f"No labelled images: {report.get('images', 0)} images predicted, no accuracy to report."
    lo, hi = report.get("ci95") or (math.nan, math.nan)
    return (f"Accuracy {report['accuracy']:.2%} ({report['correct']} of {report['n']} labelled images; "
            f"95% interval {lo:.2%} to {hi:.2%}, Wilson)")


def _table(columns: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_td(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{escape(_number(value))}</td>'
    return f"<td>{escape('' if value is None else str(value))}</td>"


def _number(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ""
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def _cell(value, column: str):
    if column == "test_accuracy" and isinstance(value, (int, float)):
        return f"{value:.2%}"
    return value


def _exports(cards: list[dict], name: str) -> str:
    card = next((c for c in cards if c.get("name") == name), {})
    exports = card.get("exports") or {}
    return ", ".join(f"{fmt} ({e.get('same_class')}/{e.get('images')} same class, max diff "
                     f"{e.get('max_prob_diff', math.nan):.1e})" for fmt, e in exports.items())


def _per_class_table(rows: list[dict], refused_label: str = "refused") -> str:
    refusals = any("refused" in r for r in rows)  # a batch of photos: how many of each class were refused
    return _table(["class", "precision", "recall", "F1", "images"] + ([refused_label] if refusals else []),
                  [[str(r.get("class_name", r.get("digit"))), f"{r['precision']:.2%}", f"{r['recall']:.2%}",
                    f"{r['f1']:.2%}", int(r["support"])] + ([int(r.get("refused", 0))] if refusals else [])
                   for r in rows])


def _mistakes(mistakes: list[dict], report: dict, inputs) -> str:
    if not mistakes:
        return "<p>Every labelled image was read correctly.</p>"
    where = {p["file"]: i for i, p in reversed(list(enumerate(report.get("predictions") or [])))}
    figures = []
    for m in mistakes:
        index = m.get("index", where.get(m.get("file")))
        image = _png(inputs[index]) if inputs is not None and index is not None and index < len(inputs) else None
        guess = ("not a shape" if report.get("class_names") else "not a digit") if m.get("prediction") is None \
            else str(m["prediction"])
        confidence = f" ({m['confidence']:.0%})" if m.get("confidence") is not None else ""
        name = m.get("file") or f"test image {m.get('index')}"
        caption = f"{name}: {m.get('label')} → {guess}{confidence}" + (f"; {m['reason']}" if m.get("reason") else "")
        img = f'<img alt="{escape(name)}" src="{image}">' if image else ""
        figures.append(f"<figure>{img}<figcaption>{escape(caption)}</figcaption></figure>")
    return ('<p class=meta>The image the model read (28×28, after preprocessing), most confident mistakes first: '
            'file: true → predicted (confidence).</p><div class="mistakes">' + "".join(figures) + "</div>")


def _predictions_table(predictions: list[dict]) -> str:
    rows = [[p.get("file"), p.get("label"), p.get("number") or p.get("prediction"),
             None if p.get("confidence") is None else f"{p['confidence']:.1%}",
             {True: "yes", False: "no"}.get(p.get("correct"), ""), p.get("reason")] for p in predictions]
    return _table(["file", "label", "prediction", "confidence", "correct", "note"], rows)


def _png(image: np.ndarray, scale: int = 3) -> str:
    """A crisp PNG data URI of a float [0, 1] (or uint8) image."""
    from PIL import Image

    arr = np.asarray(image)
    arr = arr[..., 0] if arr.ndim == 3 else arr
    if arr.dtype != np.uint8:
        arr = (np.clip(np.nan_to_num(arr.astype(np.float32)), 0, 1) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.kron(arr, np.ones((scale, scale), np.uint8))).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
