"""What reading handwriting gives back, typed: Reading (one image), FileReading (predict), BatchReport (a
collection), each with to_json() for the CLI; and their plain-text forms.

A class is an int (a digit, 0-9) for digits and a name for a named task (shapes); None where the
answer is "none of these" (not a digit, not a shape), with a reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from mnist_core.analysis import evaluate as ev
from mnist_core.tasks import Task


@dataclass(frozen=True)
class DigitReading:
    """One digit of an image (or the one shape): prediction and confidence None when refused, with a reason;
    guess is then what the model would have said."""

    prediction: int | str | None
    confidence: float | None
    probs: tuple  # one probability per class, in output order
    uncertain: bool  # confidence under reading.UNCERTAIN_BELOW: worth a second look
    box: tuple | None = None  # (x0, y0, x1, y1) of the part in the image
    reason: str | None = None
    guess: int | str | None = None

    def to_json(self) -> dict:
        return {**asdict(self), "probs": list(self.probs), "box": list(self.box) if self.box else None}


@dataclass(frozen=True)
class Reading:
    """Every digit of one image, left to right. number: the digits as a string ("?" for a part that is not a
    digit; a shape's name), None when nothing was read, with a reason. prepared: the Prepared of each digit,
    or one Prepared with found=False and its reason (every step kept, for the pages to show)."""

    number: str | None
    reason: str | None
    digits: tuple  # DigitReading
    prepared: tuple = field(default=(), repr=False, compare=False)

    @property
    def found(self) -> list:
        """(Prepared, DigitReading) of each part that holds ink."""
        return [(p, d) for p, d in zip(self.prepared, self.digits) if p.found]

    def to_json(self) -> dict:
        return {"number": self.number, "reason": self.reason, "digits": [d.to_json() for d in self.digits]}


@dataclass(frozen=True)
class FileReading:
    """`predict` on one file: its Reading's number and digits, error when the file could not be read (or held
    no ink: then the reason why), reason when every part was refused."""

    file: str
    number: str | None
    digits: tuple = ()
    error: str | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        return {"file": self.file, "number": self.number, "digits": [d.to_json() for d in self.digits],
                "error": self.error, "reason": self.reason}


@dataclass(frozen=True)
class ImageResult:
    """One image of a batch: its label (None unlabelled), the answer (None: not a digit, with a reason),
    number (a multi-digit reading; for a number, confidence is its least sure digit's)."""

    file: str
    label: int | str | None
    prediction: int | str | None
    confidence: float | None
    correct: bool | None  # None unlabelled
    number: int | str | None
    uncertain: bool
    reason: str | None


@dataclass(frozen=True)
class Mistake:
    """A labelled image read wrong: index is its row in BatchReport.predictions (and inputs)."""

    index: int
    file: str
    label: int | str
    prediction: int | str | None  # None: refused as not a digit (reason says why)
    confidence: float | None
    reason: str | None = None

    def to_json(self) -> dict:
        out = {"file": self.file, "label": self.label, "prediction": self.prediction, "confidence": self.confidence}
        return {**out, "reason": self.reason} if self.prediction is None else out


@dataclass(frozen=True)
class BatchReport:
    """A collection read and scored (reading.evaluate_images).

    accuracy is None without labels; n labelled images scored, correct of them, ci95 its Wilson interval.
    confusion: rows true, columns answered, the last column the refusals (confusion_columns names them), so
    the diagonal sums to correct. mistakes: most confident first, then the refusals. skipped: [{file, reason}]
    (unreadable files and images without ink). inputs (N, 28, 28, 1), probs (N, classes) and parts (per image
    None, or each digit of a number (k, 28, 28)) are aligned with predictions, kept only with keep_inputs."""

    task: Task
    model: str | None
    source: str
    accuracy: float | None
    n: int
    correct: int
    ci95: tuple | None
    loss: float | None
    confusion: list
    confusion_columns: list
    per_class: list
    predictions: tuple  # ImageResult
    mistakes: tuple  # Mistake
    skipped: tuple  # {file, reason}
    notes: tuple
    seconds: float
    ray: dict | None = None  # how the work spread, when decoded on Ray
    inputs: np.ndarray | None = field(default=None, repr=False, compare=False)
    probs: np.ndarray | None = field(default=None, repr=False, compare=False)
    parts: list | None = field(default=None, repr=False, compare=False)

    @property
    def images(self) -> int:
        return len(self.predictions)

    @property
    def rejected(self) -> int:
        """Images answered "not a digit" (or "not a shape")."""
        return sum(p.prediction is None for p in self.predictions)

    @property
    def class_names(self) -> list | None:
        """A named task's classes (shapes); None for digits, whose classes are their own names."""
        return list(self.task.classes) if self.task.named else None

    def to_json(self) -> dict:
        """The report as JSON: every field but the in-memory arrays."""
        out = {"task": str(self.task), "model": self.model, "source": self.source, "accuracy": self.accuracy,
               "n": self.n, "correct": self.correct, "ci95": list(self.ci95) if self.ci95 else None,
               "loss": self.loss, "confusion": self.confusion, "confusion_columns": self.confusion_columns,
               "per_class": self.per_class, "images": self.images, "rejected": self.rejected,
               "predictions": [asdict(p) for p in self.predictions], "mistakes": [m.to_json() for m in self.mistakes],
               "skipped": list(self.skipped), "notes": list(self.notes), "seconds": self.seconds}
        if self.class_names:
            out["class_names"] = self.class_names
        if self.ray:
            out["ray"] = self.ray
        return out

    def rows(self) -> list[dict]:
        """One row per file, for a table or a CSV: the images read, then the skipped files. {file, label,
        prediction ("not a digit" for one that is not, None for a skipped file), confidence, uncertain,
        correct, status ("read" or "skipped"), note (why)}."""
        refused = self.confusion_columns[-1]
        rows = [{"file": p.file, "label": p.label,
                 "prediction": p.number if p.number is not None else (refused if p.reason else p.prediction),
                 "confidence": p.confidence, "uncertain": p.uncertain, "correct": p.correct, "status": "read",
                 "note": p.reason or ("uncertain: check it" if p.uncertain else None)} for p in self.predictions]
        rows += [{"file": s["file"], "label": None, "prediction": None, "confidence": None, "uncertain": None,
                  "correct": None, "status": "skipped", "note": s["reason"]} for s in self.skipped]
        return rows


def format_predictions(results: list) -> str:
    """predict's FileReadings as text: a line per file."""
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.file}: {r.error}")
        elif r.number is None:
            lines.append(f"{r.file}: {r.reason}")
        else:
            lines.append(f"{r.file}: {r.number}   [{', '.join(_describe(d) for d in r.digits)}]")
    return "\n".join(lines)


def _describe(d: DigitReading) -> str:
    if d.prediction is None:
        return d.reason
    return f"{d.prediction} ({d.confidence:.2f}{', uncertain' if d.uncertain else ''})"


def format_report(report: BatchReport) -> str:
    """A BatchReport as text: the headline, the confusion matrix, mistakes, unlabelled images, skipped files."""
    lines = [f"{report.images} image(s) read from {report.source} with model '{report.model}' "
             f"in {report.seconds:.1f}s; {len(report.skipped)} skipped"]
    if r := report.ray:
        lines.append(f"decoded on Ray ({r['address']}): {r['chunks']} chunk(s) on {r['nodes_used']} of {r['nodes']} node(s)")
    if report.accuracy is None:
        lines.append("no labelled images (use a folder per label, 7/x.png, or a prefix, 7_x.png): predictions only")
    else:
        lo, hi = report.ci95
        lines.append(f"accuracy {report.accuracy:.4f} ({report.correct}/{report.n}, 95% CI {lo:.3f}-{hi:.3f})")
        lines.append(ev.format_confusion(report.confusion, report.confusion_columns))
        if report.class_names:
            lines.append("classes: " + ", ".join(f"{k} {n}" for k, n in enumerate(report.class_names)))
        if report.mistakes:
            lines.append(f"mistakes ({len(report.mistakes)}), most confident first:")
            lines += [f"  {m.file}: label {m.label}, " + (f"predicted {m.prediction} ({m.confidence:.2f})"
                      if m.prediction is not None else m.reason or "not recognised") for m in report.mistakes]
    unlabelled = [p for p in report.predictions if p.label is None]
    if unlabelled:
        lines.append(f"unlabelled images ({len(unlabelled)}):")
        lines += [f"  {p.file}: " + (p.reason if p.number is None else
                  f"{p.number} ({p.confidence:.2f}{', uncertain' if p.uncertain else ''})") for p in unlabelled]
    if report.skipped:
        lines.append(f"skipped ({len(report.skipped)}):")
        lines += [f"  {s['file']}: {s['reason']}" for s in report.skipped]
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)
