"""How a model reads real handwriting from sources and people it never trained on: one table per model.

Every source goes through the product's own path (PNG bytes -> read_collection ->
decode -> preprocess -> model -> "not a digit"), so the figures are what a user
uploading those images would see. A source a model learned from is scored only
on the people it never saw (UJI: the writers held out in data/mix.py); a
source without writer ids that a model trained on (optdigits) is not scored for
it at all, and the table says "trained on".

bench/realworld.py prints the table and saves each model's figures beside it
(models/<name>/realworld.json); the Models page shows them.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mnist_core import paths
from mnist_core.analysis.evaluate import wilson_interval
from mnist_core.data import mix, real

FILE = "realworld.json"
SAMPLE = real.real_dir().parent / "handwriting_sample"
FORMAT = 1
WITHOUT_PEOPLE = {"optdigits"}  # sources with no writer ids: a model that learned from one is not scored on it


@dataclass(frozen=True)
class SourceScore:
    """One model on one source: accuracy with its Wilson 95% interval, refusals, the commonest confusions."""

    source: str
    note: str
    n: int = 0
    correct: int = 0
    accuracy: float | None = None
    ci95: tuple | None = None
    refused: int = 0  # labelled images answered "not a digit" / "not a shape"
    confusions: list = field(default_factory=list)  # [(label, answer, count)], answer "refused" for a refusal
    trained_on: bool = False  # the model learned from this source (and it has no people to hold out)

    @property
    def refused_share(self) -> float | None:
        return self.refused / self.n if self.n else None

    def to_json(self) -> dict:
        return {**asdict(self), "ci95": list(self.ci95) if self.ci95 else None, "refused_share": self.refused_share}

    @classmethod
    def from_json(cls, d: dict) -> "SourceScore":
        d = {k: v for k, v in d.items() if k != "refused_share"}
        return cls(**{**d, "ci95": tuple(d["ci95"]) if d.get("ci95") else None,
                      "confusions": [tuple(c) for c in d.get("confusions", [])]})


# --- the photos, under conditions a phone meets --------------------------------------------------------------

def _shadow(im: Image.Image) -> Image.Image:
    a = np.asarray(im.convert("L"), np.float32)
    ramp = np.linspace(0.35, 1.0, a.shape[1], dtype=np.float32)[None, :]
    return Image.fromarray(np.clip(a * ramp * 0.8, 0, 255).astype(np.uint8))


def _jpeg(im: Image.Image, quality: int = 20) -> Image.Image:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


CONDITIONS = {
    "as taken": lambda im: im,
    "dim, shadow across": _shadow,
    "small (48 px)": lambda im: im.resize((48, 48), Image.Resampling.BOX),
    "JPEG quality 20": _jpeg,
    "tilted 12 degrees": lambda im: im.convert("L").rotate(12, Image.Resampling.BILINEAR, fillcolor=255),
    "out of focus": lambda im: im.filter(ImageFilter.GaussianBlur(radius=max(im.size) / 160)),
}


def photos(condition: str = "as taken") -> real.Source:
    files = sorted(p for p in SAMPLE.glob("[0-9]/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise real.RealDataMissing(f"no photos in {SAMPLE}")
    images = [np.asarray(CONDITIONS[condition](Image.open(p)).convert("L")) for p in files]
    return real.Source(f"photos, {condition}", images, np.array([int(p.parent.name) for p in files]),
                       np.full(len(files), -1), "the 100 shared photos (never trained on)")


# --- sources --------------------------------------------------------------------------------------------------

def digit_sources(quick: bool = False) -> list:
    """(name, Source) for every real digit source; uji keeps only its held-out writers.

    quick: every fourth image and the photos as taken only (a smoke test, not a figure to report)."""
    uji = real.uji()
    _, held = mix.uji_split(uji)
    out = [(f"optdigits{side}", real.optdigits(side)) for side in (32, 16, 8)]
    out.append(("uji held-out writers", uji.subset(held)))
    out += [(f"photos: {c}", photos(c)) for c in (["as taken"] if quick else CONDITIONS)]
    return [(n, s.subset(np.arange(0, len(s), 4)) if quick else s) for n, s in out]


def shape_sources(quick: bool = False) -> list:
    src = real.hds()
    _, held = mix.hds_split(src)
    s = src.subset(held)
    shapes = s.subset(np.flatnonzero(np.isin(s.labels, real.SHAPE_LABELS)))
    return [("hds held-out people", shapes.subset(np.arange(0, len(shapes), 4)) if quick else shapes)]


def trained_on(card: dict) -> set:
    return {d.get("source") for d in card.get("data_sources", [])}


def score(model, name: str, source: real.Source, top: int = 5) -> SourceScore:
    """One model on one source, through evaluate_images (the Batch page's path)."""
    from mnist_core.handwriting.collection import Limits
    from mnist_core.handwriting.reading import evaluate_images

    report = evaluate_images(model, real.as_upload(source), limits=Limits(max_files=10**6, max_total_bytes=2**34))
    rows = [r for r in report.predictions if r.label is not None]
    n = len(rows) + len(report.skipped)  # every file is labelled: one skipped found no digit in it
    correct = sum(bool(r.correct) for r in rows)
    refused = sum(r.prediction is None for r in rows) + (n - len(rows))  # "no digit found" is a refusal too
    wrong = Counter((str(r.label), "refused" if r.prediction is None else str(r.prediction))
                    for r in rows if not r.correct)
    wrong.update((s["file"].split("_")[0], "refused") for s in report.skipped)
    return SourceScore(name, source.note, n, correct, correct / n if n else None,
                       tuple(wilson_interval(correct, n)) if n else None, refused,
                       [(a, b, c) for (a, b), c in wrong.most_common(top)])


def measure(model, sources: list, card: dict | None = None) -> list:
    """Scores of one model on each (name, Source); a source without people that the model trained on is skipped."""
    learned = trained_on(card or getattr(model, "card", {}) or {})
    out = []
    for name, source in sources:
        base = name.split(" ")[0].rstrip("0123456789")
        if base in learned and base in WITHOUT_PEOPLE:
            out.append(SourceScore(name, source.note, trained_on=True))
        else:
            out.append(score(model, name, source))
    return out


# --- saved beside the model -----------------------------------------------------------------------------------

def save(name: str, scores: list, extra: dict | None = None, root: Path | None = None) -> Path:
    path = Path(root or paths.models_dir()) / name / FILE
    data = {"format": FORMAT, "model": name, "measured": time.strftime("%Y-%m-%d"),
            "command": "python bench/realworld.py", "sources": [s.to_json() for s in scores], **(extra or {})}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
    return path


def load(name: str, root: Path | None = None) -> dict | None:
    """The saved figures of a model ({'measured', 'sources': [SourceScore]...}), None when never measured."""
    path = Path(root or paths.models_dir()) / name / FILE
    try:
        data = json.loads(path.read_text())
        data["sources"] = [SourceScore.from_json(d) for d in data["sources"]]
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


def table_rows(scores: list) -> list:
    """Rows for a page or a terminal: source, accuracy (interval), refused share, top confusions."""
    rows = []
    for s in scores:
        if s.trained_on:
            rows.append({"source": s.source, "images": None, "accuracy": "trained on", "95% interval": "",
                         "refused": "", "commonest errors": "not scored: no people to hold out"})
            continue
        lo, hi = s.ci95 or (None, None)
        rows.append({"source": s.source, "images": s.n,
                     "accuracy": f"{s.accuracy:.2%}" if s.accuracy is not None else "-",
                     "95% interval": f"{lo:.1%}-{hi:.1%}" if lo is not None else "",
                     "refused": f"{s.refused_share:.1%}" if s.refused_share is not None else "",
                     "commonest errors": ", ".join(f"{a}->{b} x{c}" for a, b, c in s.confusions)})
    return rows


def summary_rows(cards: list, root: Path | None = None, test_label: str = "MNIST test") -> list:
    """One row per measured model: its test accuracy (MNIST's, or the generated shapes' for a shapes model:
    `test_label` names it) beside each real source's accuracy (None: not measured; "trained on": not
    scored). Models never measured are left out."""
    rows = []
    for card in cards:
        data = load(card.get("name", ""), root)
        if not data:
            continue
        row = {"model": card["name"], test_label: card.get("test_accuracy")}
        for s in data["sources"]:
            row[s.source] = "trained on" if s.trained_on else s.accuracy
        row["measured"] = data.get("measured")
        rows.append(row)
    return rows
