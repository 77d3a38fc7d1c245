"""Read real handwriting with a model: single images, multi-digit numbers, whole collections.

Decoding and preprocessing are CPU work in NumPy/Pillow, so large batches go
to a pool of worker processes (one per core, started with 'forkserver' so
they never inherit TensorFlow's threads); the model then sees all inputs in
one batched call in this process.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from mnist_core.analysis import evaluate as ev
from mnist_core.handwriting import not_a_digit, not_a_shape
from mnist_core.handwriting.collection import Limits, read_collection
from mnist_core.handwriting.decode import ImageError, load_image
from mnist_core.handwriting.preprocess import Prepared, analyse, group_columns, render
from mnist_core.models.loading import card_class_names

# Below this confidence a prediction is flagged for a second look; chosen on MNIST's validation
# split (not_a_digit.info()["uncertain_rule"]: above it, 99.9% of the default model's readings are right).
UNCERTAIN_BELOW = not_a_digit.uncertain_below()
BATCH_DRAFT = 240  # batch decoding may shrink JPEGs by powers of two while their long side stays >= this
PARALLEL_FROM = 24  # smaller batches are not worth starting worker processes for
CHUNK = 16
WORKERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

_pool: ProcessPoolExecutor | None = None


def read_image(model, image, reject: bool = True) -> dict:
    """Read every digit of one image (PIL image or array), left to right.

    Returns number (the digits as a string, "?" for a part that is not a digit;
    None when no digit was found), reason (why not, when number is None),
    digits [{prediction, confidence, probs, uncertain, box, reason}] and
    prepared (the Prepared of each digit, or one Prepared with found=False and
    its reason). A part that is not a digit has prediction and confidence None
    and a reason; `guess` keeps what the model would have said."""
    a = analyse(image)
    if a.reason:
        return {"number": None, "reason": a.reason, "digits": [],
                "prepared": [Prepared(None, False, a.reason, a.steps or [])]}
    names = named_classes(model)
    groups = [a.kept] if names else group_columns(a.comps, a.kept)  # a shape is the whole drawing, strokes and all
    prepared = [render(a, group) for group in groups]
    x = np.stack([p.x for p in prepared])
    probs = model.predict_proba(x)
    reasons = (not_a_shape.check(model, x) if names else not_a_digit.as_a_whole(rejections(x))) if reject \
        else [None] * len(x)
    digits = [_digit(p, box=q.box, reason=r, names=names) for p, q, r in zip(probs, prepared, reasons)]
    number, reason = _number(digits)
    return {"number": number, "reason": reason, "digits": digits, "prepared": prepared}


def rejections(x: np.ndarray) -> list:
    """not_a_digit.check where the detector is shipped; no rejections (None each) where it is not."""
    return not_a_digit.check(x) if not_a_digit.available() else [None] * len(x)


def named_classes(model) -> list | None:
    """A model's class names when they are not the digits 0-9 (a shapes model), else None.

    `model` is a loaded model or a model card (read without loading the model)."""
    names = card_class_names(model) if isinstance(model, dict) else getattr(model, "class_names", None)
    return None if names is None or list(names) == [str(k) for k in range(10)] else list(names)


def _digit(p: np.ndarray, box=None, reason: str | None = None, names: list | None = None) -> dict:
    k = int(p.argmax())
    if reason:
        return {"prediction": None, "confidence": None, "probs": [float(v) for v in p], "uncertain": False,
                "box": list(box) if box else None, "reason": reason, "guess": names[k] if names else k}
    return {"prediction": names[k] if names else k, "confidence": float(p[k]), "probs": [float(v) for v in p],
            "uncertain": bool(p[k] < UNCERTAIN_BELOW), "box": list(box) if box else None, "reason": None}


def _number(digits: list) -> tuple:
    """The digits as a string ("?" for a part that is not a digit), or None and a reason when none is."""
    if digits and all(d["prediction"] is None for d in digits):
        reasons = {d["reason"] for d in digits}
        return None, reasons.pop() if len(reasons) == 1 else not_a_digit.REASON
    return "".join("?" if d["prediction"] is None else str(d["prediction"]) for d in digits), None


def process_bytes(data: bytes, name: str, draft: int | None = None) -> dict:
    """Decode + preprocess one file: the whole image as one digit (x), and each
    digit separately when it holds several (parts); reason when unusable."""
    try:
        a = analyse(load_image(data, name, draft=draft), keep_steps=False)
        if a.reason:
            return {"reason": a.reason}
        x = render(a, a.kept).x[:, :, 0]
        groups = group_columns(a.comps, a.kept)
        parts = np.stack([render(a, g).x[:, :, 0] for g in groups]) if len(groups) > 1 else None
        return {"x": x, "parts": parts}
    except ImageError as exc:
        return {"reason": str(exc).removeprefix(f"{name}: ")}
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a batch
        return {"reason": f"could not be processed ({type(exc).__name__}: {exc})"}


def _process_chunk(chunk: list, draft: int | None) -> list:
    return [process_bytes(data, name, draft) for name, data in chunk]


def _get_pool() -> ProcessPoolExecutor:
    """One pool per process, kept between calls (the dashboard reuses it for every batch)."""
    global _pool
    if _pool is None:
        ctx = multiprocessing.get_context("forkserver")  # raises ValueError where there is none (Windows)
        _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx)
    return _pool


@atexit.register
def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def process_many(named: list, progress=None, draft: int | None = BATCH_DRAFT, parallel: bool | None = None) -> list:
    """process_bytes over [(name, bytes)], in order; in worker processes when the batch is large."""
    total = len(named)
    results: list = [None] * total
    use_pool = (total >= PARALLEL_FROM and WORKERS > 1) if parallel is None else parallel
    done = 0
    if use_pool:
        try:
            pool = _get_pool()
            futures = [(i, pool.submit(_process_chunk, named[i:i + CHUNK], draft)) for i in range(0, total, CHUNK)]
            for i, fut in futures:
                results[i:i + CHUNK] = fut.result()
                done += len(named[i:i + CHUNK])
                if progress:
                    progress(done, total)
            return results
        except (BrokenProcessPool, OSError, ValueError, RuntimeError):
            shutdown_pool()  # no pool here, or a worker died (out of memory?): finish what is left in this process
    for i, (name, data) in enumerate(named):
        if results[i] is None:
            results[i] = process_bytes(data, name, draft)
        if progress and (i + 1 == total or (i + 1) % 8 == 0):
            progress(i + 1, total)
    return results


def evaluate_images(model, source, progress=None, keep_inputs: bool = False, limits: Limits | None = None,
                    parallel: bool | None = None, reject: bool = True, on_ray: str | bool | None = None) -> dict:
    """Predict every image of a collection (directory, ZIP, file, or [(name, bytes)]) and score the labelled ones.

    JSON-serialisable report: accuracy (None without labels), n (labelled images
    scored), correct, ci95, images (images predicted), confusion (rows true, columns answered, the last
    column the refusals) and confusion_columns (its column labels), per_class (with refused per class),
    predictions [{file, label, prediction, confidence, correct, number, uncertain,
    reason}] (prediction and confidence None, and a reason, for an image that is
    not a digit; for a number, confidence is its least sure digit's), rejected
    (how many are not digits), mistakes (wrong predictions, most confident
    first), skipped [{file, reason}] (unreadable files and images without a
    digit), notes, seconds. With keep_inputs, also the in-memory arrays inputs
    (N, 28, 28, 1), probs (N, 10) and parts (per image None, or each digit of a
    number (k, 28, 28)), aligned with predictions (leave them out before json.dumps).
    parallel: None decides by batch size; True/False force worker processes or not.
    on_ray: decode and preprocess on Ray instead: an address (HOST:PORT or auto), or True for
    $MNIST_STUDIO_RAY_ADDRESS else a local Ray; the report then says how the work spread (ray)."""
    t0 = time.time()
    names = named_classes(model)
    coll = read_collection(source, limits, class_names=names)
    named = [(it.file, it.data) for it in coll.items]
    if on_ray:
        from mnist_core.handwriting.on_ray import process_on_ray

        results, ray_info = process_on_ray(named, _process_chunk, BATCH_DRAFT, progress=progress,
                                           address=on_ray if isinstance(on_ray, str) else None)
    else:
        results, ray_info = process_many(named, progress, parallel=parallel), None
    skipped = list(coll.skipped)
    rows, xs, parts = [], [], []
    for item, r in zip(coll.items, results):
        if "reason" in r:
            skipped.append({"file": item.file, "reason": r["reason"]})
            continue
        rows.append({"file": item.file, "label": item.label})
        xs.append(r["x"])
        parts.append(None if names else r["parts"])  # a shape is read whole
    x = np.stack(xs)[..., None] if xs else np.zeros((0, 28, 28, 1), np.float32)
    probs = model.predict_proba(x) if len(x) else np.zeros((0, len(names or range(10))), np.float32)
    if names:
        _fill_shapes(model, rows, x, probs, reject)
    else:
        _fill_predictions(model, rows, x, probs, parts, reject)
    report = _score(rows, probs)
    report["confusion_columns"] = [str(c) for c in (names or range(probs.shape[1]))] + [
        not_a_shape.REASON if names else not_a_digit.REASON]  # the matrix's last column: the refusals
    if names:
        _name_classes(report, rows, names)
    report.update(model=getattr(model, "name", None), source=_source_name(source), images=len(rows),
                  predictions=rows, rejected=sum(r["prediction"] is None for r in rows), skipped=skipped,
                  notes=coll.notes, seconds=time.time() - t0)
    if ray_info:
        report["ray"] = ray_info
    if keep_inputs:
        report["inputs"], report["probs"], report["parts"] = x, probs, parts
    return report


def _fill_predictions(model, rows: list, x: np.ndarray, probs: np.ndarray, parts: list, reject: bool) -> None:
    """A single digit is judged on the whole image; a number digit by digit, its confidence its least sure digit's."""
    multi = [p for p in parts if p is not None]
    part_x = np.concatenate(multi)[..., None] if multi else np.zeros((0, 28, 28, 1), np.float32)
    part_probs = model.predict_proba(part_x) if multi else None
    whole = [None if part is not None else xi for xi, part in zip(x, parts)]
    singles = [xi for xi in whole if xi is not None]
    judged = iter(rejections(np.stack(singles + list(part_x))) if reject and (singles or multi) else [])
    single_reasons = [next(judged) if xi is not None else None for xi in whole]
    part_reasons = list(judged) or [None] * len(part_x)
    offset = 0
    for row, p, part, reason in zip(rows, probs, parts, single_reasons):
        if part is None:
            digits = [_digit(p, reason=reason)]
        else:
            digits = [_digit(q, reason=r) for q, r in zip(part_probs[offset:offset + len(part)], not_a_digit.as_a_whole(
                part_reasons[offset:offset + len(part)]))]
            offset += len(part)
        number, why = _number(digits)
        sure = [d for d in digits if d["prediction"] is not None]
        k = None if number is None else int(p.argmax()) if part is not None else digits[0]["prediction"]
        conf = min(d["confidence"] for d in sure) if sure else None
        row.update(prediction=k, confidence=conf, uncertain=any(d["uncertain"] for d in sure),
                   correct=None if row["label"] is None else bool(k is not None and k == row["label"]),
                   number=number, reason=why or next((d["reason"] for d in digits if d["reason"]), None))


def _fill_shapes(model, rows: list, x: np.ndarray, probs: np.ndarray, reject: bool) -> None:
    """Each image is one drawing of one shape, or "not a shape" (not_a_shape.check) with its reason."""
    reasons = not_a_shape.check(model, x) if reject and len(x) else [None] * len(x)
    for row, p, reason in zip(rows, probs, reasons):
        k = None if reason else int(p.argmax())
        row.update(prediction=k, confidence=None if reason else float(p[k]),
                   uncertain=bool(not reason and p[k] < UNCERTAIN_BELOW),
                   correct=None if row["label"] is None else k == row["label"], number=k, reason=reason)


def _name_classes(report: dict, rows: list, names: list) -> None:
    """Labels and predictions as class names (rows, mistakes, per-class rows); the confusion matrix keeps indices."""
    def name(k):
        return names[k] if isinstance(k, int) else k

    for r in rows + report["mistakes"]:
        for key in ("label", "prediction", "number"):
            if key in r:
                r[key] = name(r[key])
    for row in report["per_class"]:
        row["class_name"] = names[row["digit"]]
    report["class_names"] = names


def _score(rows: list, probs: np.ndarray) -> dict:
    """Accuracy, confusion and per-class figures of the labelled rows, from the answers the rows give.

    The confusion matrix has one column more than classes: the last counts the images refused as "not a
    digit" (or "not a shape"), so its diagonal sums to `correct` and each row to that class's images."""
    labelled = [i for i, r in enumerate(rows) if r["label"] is not None]
    k = probs.shape[1]
    cm = np.zeros((k, k + 1), np.int64)
    if not labelled:
        return {"accuracy": None, "n": 0, "correct": 0, "ci95": None, "loss": None,
                "confusion": cm.tolist(), "per_class": ev.per_class(cm), "mistakes": []}
    y = np.array([rows[i]["label"] for i in labelled])
    summary = ev.summarize(probs[labelled], y, mistakes_limit=None)  # the loss, and the mistakes by confidence
    for i in labelled:
        answer = rows[i]["prediction"]
        cm[rows[i]["label"], k if answer is None else answer] += 1
    correct = int(np.trace(cm[:, :k]))
    summary.update(confusion=cm.tolist(), per_class=ev.per_class(cm), correct=correct,
                   accuracy=correct / len(labelled), ci95=list(ev.wilson_interval(correct, len(labelled))))
    for m in summary["mistakes"]:
        m["file"] = rows[labelled[m.pop("index")]]["file"]
    refused = [rows[i] for i in labelled if rows[i]["prediction"] is None]
    if refused:  # a digit answered "not a digit" is not read right, whatever the model would have guessed
        refused_files = {r["file"] for r in refused}
        summary["mistakes"] = [m for m in summary["mistakes"] if m["file"] not in refused_files]
        summary["mistakes"] += [{"file": r["file"], "label": r["label"], "prediction": None, "confidence": None,
                                 "reason": r["reason"]} for r in refused]
    return summary


def _source_name(source) -> str:
    return str(source) if not isinstance(source, (list, tuple)) else f"{len(source)} uploaded file(s)"


def predict_files(model, paths) -> list:
    """Read the digits (or multi-digit number) in each image file: [{file, number, digits, error, reason}]
    (number None and a reason when the image holds no digit: error is for files that could not be read)."""
    out = []
    for path in paths:
        try:
            result = read_image(model, load_image(path))
        except ImageError as exc:
            out.append({"file": str(path), "number": None, "digits": [], "error": str(exc), "reason": None})
            continue
        except Exception as exc:  # noqa: BLE001 - one bad file must not hide the others' results
            out.append({"file": str(path), "number": None, "digits": [],
                        "error": f"{path}: could not be processed ({type(exc).__name__}: {exc})", "reason": None})
            continue
        error = None if result["digits"] else result["prepared"][0].reason
        out.append({"file": str(path), "number": result["number"], "digits": result["digits"], "error": error,
                    "reason": result["reason"] if result["digits"] else None})
    return out


def format_predictions(results: list) -> str:
    lines = []
    for r in results:
        if r["error"]:
            lines.append(f"{r['file']}: {r['error']}")
            continue
        if r["number"] is None:
            lines.append(f"{r['file']}: {r['reason']}")
            continue
        detail = ", ".join(_describe(d) for d in r["digits"])
        lines.append(f"{r['file']}: {r['number']}   [{detail}]")
    return "\n".join(lines)


def _describe(d: dict) -> str:
    if d["prediction"] is None:
        return d["reason"]
    return f"{d['prediction']} ({d['confidence']:.2f}{', uncertain' if d['uncertain'] else ''})"


def format_report(report: dict) -> str:
    lines = [f"{report['images']} image(s) read from {report['source']} with model '{report['model']}' "
             f"in {report['seconds']:.1f}s; {len(report['skipped'])} skipped"]
    if r := report.get("ray"):
        lines.append(f"decoded on Ray ({r['address']}): {r['chunks']} chunk(s) on {r['nodes_used']} of {r['nodes']} node(s)")
    if report["accuracy"] is None:
        lines.append("no labelled images (use a folder per label, 7/x.png, or a prefix, 7_x.png): predictions only")
    else:
        lo, hi = report["ci95"]
        lines.append(f"accuracy {report['accuracy']:.4f} ({report['correct']}/{report['n']}, 95% CI {lo:.3f}-{hi:.3f})")
        lines.append(ev.format_confusion(report["confusion"], report.get("confusion_columns")))
        if report.get("class_names"):
            lines.append("classes: " + ", ".join(f"{k} {n}" for k, n in enumerate(report["class_names"])))
        if report["mistakes"]:
            lines.append(f"mistakes ({len(report['mistakes'])}), most confident first:")
            lines += [f"  {m['file']}: label {m['label']}, " + (f"predicted {m['prediction']} ({m['confidence']:.2f})"
                      if m["prediction"] is not None else m.get("reason") or "not recognised") for m in report["mistakes"]]
    unlabelled = [p for p in report["predictions"] if p["label"] is None]
    if unlabelled:
        lines.append(f"unlabelled images ({len(unlabelled)}):")
        lines += [f"  {p['file']}: " + (p["reason"] if p["number"] is None else
                  f"{p['number']} ({p['confidence']:.2f}{', uncertain' if p['uncertain'] else ''})") for p in unlabelled]
    if report["skipped"]:
        lines.append(f"skipped ({len(report['skipped'])}):")
        lines += [f"  {s['file']}: {s['reason']}" for s in report["skipped"]]
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def result_rows(report: dict) -> list[dict]:
    """One row per file of an evaluate_images report, for a table or a CSV: the images read, then the
    skipped files. {file, label (int or None), prediction ("not a digit" for one that is not, None for
    a skipped file), confidence, uncertain, correct, status ("read" or "skipped"), note (why)}."""
    rows = [{"file": p["file"], "label": p.get("label"),
             "prediction": p.get("number") if p.get("number") is not None else
             ((not_a_shape.REASON if report.get("class_names") else not_a_digit.REASON) if p.get("reason")
              else p.get("prediction")),
             "confidence": p.get("confidence"), "uncertain": p.get("uncertain"), "correct": p.get("correct"),
             "status": "read", "note": p.get("reason") or ("uncertain: check it" if p.get("uncertain") else None)}
            for p in report.get("predictions") or []]
    rows += [{"file": s["file"], "label": None, "prediction": None, "confidence": None, "uncertain": None,
              "correct": None, "status": "skipped", "note": s["reason"]} for s in report.get("skipped") or []]
    return rows
