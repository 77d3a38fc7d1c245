"""Read real handwriting with a model: single images, multi-digit numbers, whole collections.

Decoding, preprocessing and the not-a-digit detector are CPU work in NumPy,
Pillow and OpenCV, so large batches go to a pool of worker processes (one per
core, started with 'forkserver' so they never inherit TensorFlow's threads);
the model then sees all inputs in one batched call in this process.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

import numpy as np

from mnist_core.analysis import evaluate as ev
from mnist_core.handwriting import not_a_digit, not_a_shape
from mnist_core.handwriting.collection import Limits, read_collection
from mnist_core.handwriting.decode import ImageError, load_image
from mnist_core.handwriting.preprocess import Prepared, analyse, group_columns, render
from mnist_core.handwriting.results import (BatchReport, DigitReading, FileReading, ImageResult, Mistake, Reading,
                                            format_predictions, format_report)
from mnist_core.processes import forkserver_context, no_main_script

__all__ = ["BatchReport", "DigitReading", "FileReading", "ImageResult", "Mistake", "Reading", "evaluate_images",
           "format_predictions", "format_report", "predict_files", "process_bytes", "process_many", "read_image"]

# Below this confidence a prediction is flagged for a second look; chosen on MNIST's validation
# split (not_a_digit.info()["uncertain_rule"]: above it, 99.9% of the default model's readings are right).
UNCERTAIN_BELOW = not_a_digit.uncertain_below()
BATCH_DRAFT = 240  # batch decoding may shrink JPEGs by powers of two while their long side stays >= this
PARALLEL_FROM = 24  # smaller batches are not worth starting worker processes for
CHUNK = 16
WORKERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

_pool: ProcessPoolExecutor | None = None


def read_image(model, image, reject: bool = True) -> Reading:
    """Read every digit of one image (PIL image or array), left to right; a shape is the whole drawing.

    A part that is not a digit has prediction and confidence None and a reason; its guess keeps what the
    model would have said. With reject=False every part gets an answer."""
    a = analyse(image)
    if a.reason:
        return Reading(None, a.reason, (), (Prepared(None, False, a.reason, a.steps or []),))
    task = model.task
    groups = [a.kept] if task.named else group_columns(a.comps, a.kept)  # a shape is the whole drawing, strokes and all
    prepared = [render(a, group) for group in groups]
    x = np.stack([p.x for p in prepared])
    probs = model.predict_proba(x)
    reasons = (not_a_shape.check(model, x) if task.named else not_a_digit.as_a_whole(rejections(x))) if reject \
        else [None] * len(x)
    digits = tuple(_digit(p, task, box=q.box, reason=r) for p, q, r in zip(probs, prepared, reasons))
    number, reason = _number(digits)
    return Reading(number, reason, digits, tuple(prepared))


def rejections(x: np.ndarray) -> list:
    """not_a_digit.check where the detector is shipped; no rejections (None each) where it is not."""
    return not_a_digit.check(x) if not_a_digit.available() else [None] * len(x)


def _digit(p: np.ndarray, task, box=None, reason: str | None = None) -> DigitReading:
    k = int(p.argmax())
    said = task.classes[k] if task.named else k
    probs, box = tuple(float(v) for v in p), tuple(box) if box else None
    if reason:
        return DigitReading(None, None, probs, False, box, reason, guess=said)
    return DigitReading(said, float(p[k]), probs, bool(p[k] < UNCERTAIN_BELOW), box)


def _number(digits) -> tuple:
    """The digits as a string ("?" for a part that is not a digit), or None and a reason when none is."""
    if digits and all(d.prediction is None for d in digits):
        reasons = {d.reason for d in digits}
        return None, reasons.pop() if len(reasons) == 1 else not_a_digit.REASON
    return "".join("?" if d.prediction is None else str(d.prediction) for d in digits), None


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


def _process_chunk(chunk: list, draft: int | None, judge: bool = False) -> list:
    """process_bytes over [(name, bytes)]; with judge, also the not-a-digit detector's verdicts (_judge).

    The detector is NumPy and judges each image alone (the same answer in any grouping), so the pool's
    workers can run it beside the preprocessing instead of the model's process after it (issue 27 §2)."""
    results = [process_bytes(data, name, draft) for name, data in chunk]
    return _judge(results) if judge else results


def _judge(results: list) -> list:
    """Add "judged" to each processed file: the detector's reasons for the parts of a number, else for the
    whole image. One detector call for all of them (its per-call cost is paid once, and each image's answer
    is its own whatever shares the call)."""
    read = [r["x"][None] if r["parts"] is None else r["parts"] for r in results if "x" in r]
    reasons = iter(rejections(np.concatenate(read)) if read else [])
    for r in results:
        if "x" in r:
            r["judged"] = [next(reasons) for _ in range(1 if r["parts"] is None else len(r["parts"]))]
    return results


def _get_pool() -> ProcessPoolExecutor:
    """One pool per process, kept between calls (the dashboard reuses it for every batch)."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=forkserver_context(),  # ValueError on Windows
                                    initializer=keep_freed_memory)
    return _pool


# glibc's mallopt parameters: the size from which a block gets its own mapping, how much free memory at the
# top of the heap is kept rather than returned, and how much more the heap grows by each time.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_KEEP = ((_M_MMAP_THRESHOLD, 16 << 20), (_M_TRIM_THRESHOLD, 64 << 20), (_M_TOP_PAD, 16 << 20))


def keep_freed_memory() -> bool:
    """A worker keeps the memory its arrays free, for the next image's arrays.

    Every image allocates and frees arrays of a few hundred kilobytes (the detector's activations, the
    resized crops). By default glibc maps each such block afresh and unmaps it when freed, so the next
    one page-faults all over again: 74 faults an image, 7% of the pool's throughput (bench/
    batch_throughput.py prints faults per image and a row without this). Blocks under 16 MB now come
    from a heap that keeps up to 64 MB of freed memory. False where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    answers = [mallopt(param, value) for param, value in _KEEP]  # each setting on its own: none skipped
    return all(answer == 1 for answer in answers)


@atexit.register
def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def process_many(named: list, progress=None, draft: int | None = BATCH_DRAFT, parallel: bool | None = None,
                 judge: bool = False) -> list:
    """process_bytes over [(name, bytes)], in order; in worker processes when the batch is large."""
    total = len(named)
    results: list = [None] * total
    use_pool = (total >= PARALLEL_FROM and WORKERS > 1) if parallel is None else parallel
    done = 0
    if use_pool:
        try:
            pool = _get_pool()
            with no_main_script():  # submit starts the workers the pool still lacks
                futures = [(i, pool.submit(_process_chunk, named[i:i + CHUNK], draft, judge))
                           for i in range(0, total, CHUNK)]
            for i, fut in futures:
                results[i:i + CHUNK] = fut.result()
                done += len(named[i:i + CHUNK])
                if progress:
                    progress(done, total)
            return results
        except (BrokenProcessPool, OSError, ValueError, RuntimeError):
            shutdown_pool()  # no pool here, or a worker died (out of memory?): finish what is left in this process
    for i in range(done, total, CHUNK):
        results[i:i + CHUNK] = _process_chunk(named[i:i + CHUNK], draft, judge)
        if progress:
            progress(min(i + CHUNK, total), total)
    return results


def evaluate_images(model, source, progress=None, keep_inputs: bool = False, limits: Limits | None = None,
                    parallel: bool | None = None, reject: bool = True, on_ray: str | bool | None = None) -> BatchReport:
    """Predict every image of a collection (directory, ZIP, file, or [(name, bytes)]) and score the labelled ones.

    keep_inputs: also keep the in-memory arrays (inputs, probs, parts) on the report.
    parallel: None decides by batch size; True/False force worker processes or not.
    on_ray: decode and preprocess on Ray instead: an address (HOST:PORT or auto), or True for
    $MNIST_STUDIO_RAY_ADDRESS else a local Ray; the report then says how the work spread (ray)."""
    t0 = time.time()
    task = model.task
    coll = read_collection(source, limits, class_names=list(task.classes) if task.named else None)
    named = [(it.file, it.data) for it in coll.items]
    judge = reject and not task.named  # a shape's refusal needs the model (not_a_shape), so it stays here
    if on_ray:
        from mnist_core.handwriting.on_ray import process_on_ray

        results, ray_info = process_on_ray(named, partial(_process_chunk, judge=judge), BATCH_DRAFT,
                                           progress=progress, address=on_ray if isinstance(on_ray, str) else None)
    else:
        results, ray_info = process_many(named, progress, parallel=parallel, judge=judge), None
    rows, x, probs, parts, judged, failed = _read_all(model, coll.items, results)
    skipped = list(coll.skipped) + failed
    if task.named:
        _fill_shapes(model, rows, x, probs, reject)
    else:
        _fill_predictions(model, rows, probs, parts, judged)
    scores = _score(rows, probs)
    if task.named:
        scores["per_class"] = [{**row, "class_name": task.classes[row["digit"]]} for row in scores["per_class"]]
    refused = not_a_shape.REASON if task.named else not_a_digit.REASON
    predictions = tuple(ImageResult(**_named(r, task)) for r in rows)
    mistakes = tuple(Mistake(**_named(m, task)) for m in scores.pop("mistakes"))
    return BatchReport(
        task=task, model=getattr(model, "name", None), source=_source_name(source), **scores,
        confusion_columns=[str(c) for c in task.classes] + [refused],  # the matrix's last column: the refusals
        predictions=predictions, mistakes=mistakes, skipped=tuple(skipped), notes=tuple(coll.notes),
        seconds=time.time() - t0, ray=ray_info, **(dict(inputs=x, probs=probs, parts=parts) if keep_inputs else {}))


def _read_all(model, items: list, results: list) -> tuple:
    """Rows, inputs and the model's probabilities for every processed file (one batched call), and the
    files that failed."""
    task = model.task
    rows, xs, parts, judged, failed = [], [], [], [], []
    for item, r in zip(items, results):
        if "reason" in r:
            failed.append({"file": item.file, "reason": r["reason"]})
            continue
        rows.append({"file": item.file, "label": item.label})
        xs.append(r["x"])
        parts.append(None if task.named else r["parts"])  # a shape is read whole
        judged.append(r.get("judged"))
    x = np.stack(xs)[..., None] if xs else np.zeros((0, 28, 28, 1), np.float32)
    probs = model.predict_proba(x) if len(x) else np.zeros((0, len(task.classes)), np.float32)
    return rows, x, probs, parts, judged, failed


def _fill_predictions(model, rows: list, probs: np.ndarray, parts: list, judged: list) -> None:
    """A single digit is judged on the whole image; a number digit by digit, its confidence its least sure
    digit's. judged: per row the detector's reasons (process_bytes), or None each when nothing is refused."""
    multi = [p for p in parts if p is not None]
    part_probs = model.predict_proba(np.concatenate(multi)[..., None]) if multi else None
    offset = 0
    task = model.task
    for row, p, part, reasons in zip(rows, probs, parts, judged):
        if part is None:
            digits = [_digit(p, task, reason=reasons[0] if reasons else None)]
        else:
            span = slice(offset, offset + len(part))
            reasons = not_a_digit.as_a_whole(reasons) if reasons else [None] * len(part)
            digits = [_digit(q, task, reason=r) for q, r in zip(part_probs[span], reasons)]
            offset += len(part)
        number, why = _number(digits)
        sure = [d for d in digits if d.prediction is not None]
        k = None if number is None else int(p.argmax()) if part is not None else digits[0].prediction
        conf = min(d.confidence for d in sure) if sure else None
        row.update(prediction=k, confidence=conf, uncertain=any(d.uncertain for d in sure),
                   correct=None if row["label"] is None else bool(k is not None and k == row["label"]),
                   number=number, reason=why or next((d.reason for d in digits if d.reason), None))


def _fill_shapes(model, rows: list, x: np.ndarray, probs: np.ndarray, reject: bool) -> None:
    """Each image is one drawing of one shape, or "not a shape" (not_a_shape.check) with its reason."""
    reasons = not_a_shape.check(model, x) if reject and len(x) else [None] * len(x)
    for row, p, reason in zip(rows, probs, reasons):
        k = None if reason else int(p.argmax())
        row.update(prediction=k, confidence=None if reason else float(p[k]),
                   uncertain=bool(not reason and p[k] < UNCERTAIN_BELOW),
                   correct=None if row["label"] is None else k == row["label"], number=k, reason=reason)


def _named(row: dict, task) -> dict:
    """A named task's labels and answers by class name (the confusion matrix keeps indices)."""
    if not task.named:
        return row
    return {k: task.classes[v] if k in ("label", "prediction", "number") and isinstance(v, int) else v
            for k, v in row.items()}


def _score(rows: list, probs: np.ndarray) -> dict:
    """Accuracy, confusion and per-class figures of the labelled rows, from the answers the rows give;
    mistakes (with their row index) most confident first, then the refusals.

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
    # A digit answered "not a digit" is not read right, whatever the model would have guessed: it goes last.
    read = [{**m, "index": labelled[m["index"]]} for m in summary["mistakes"]]
    read = [{**m, "file": rows[m["index"]]["file"]} for m in read if rows[m["index"]]["prediction"] is not None]
    refused = [{"index": i, "file": rows[i]["file"], "label": rows[i]["label"], "prediction": None,
                "confidence": None, "reason": rows[i]["reason"]} for i in labelled if rows[i]["prediction"] is None]
    return {"accuracy": correct / len(labelled), "n": len(labelled), "correct": correct,
            "ci95": tuple(ev.wilson_interval(correct, len(labelled))), "loss": summary["loss"],
            "confusion": cm.tolist(), "per_class": ev.per_class(cm), "mistakes": read + refused}


def _source_name(source) -> str:
    return str(source) if not isinstance(source, (list, tuple)) else f"{len(source)} uploaded file(s)"


def predict_files(model, paths) -> list[FileReading]:
    """Read the digits (or multi-digit number) in each image file. number None and a reason when every part
    was refused; error for a file that could not be read or held no ink."""
    out = []
    for path in paths:
        try:
            result = read_image(model, load_image(path))
        except ImageError as exc:
            out.append(FileReading(str(path), None, error=str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad file must not hide the others' results
            why = f"{path}: could not be processed ({type(exc).__name__}: {exc})"
            out.append(FileReading(str(path), None, error=why))
            continue
        if not result.digits:
            out.append(FileReading(str(path), None, error=result.prepared[0].reason))
        else:
            out.append(FileReading(str(path), result.number, result.digits, reason=result.reason))
    return out
