"""Batch throughput for photos of handwritten digits: decode + preprocess + predict.

    python bench/batch_throughput.py [--n 2000] [--model default] [--images DIR] [--repeats 3]

Feeds N JPEG photos (the shared 500x500 handwriting sample, cycled; synthetic
500x500 photos when it is absent) as uploads to reading.evaluate_images,
once in this process only and once with the worker pool on every core, and
prints a table: images per second (median of the repeats), the pool's first
call with its start-up, and where the time goes per image, with the
preprocessing as it was before issue 27 (tests/core/handwriting/reference_v1,
the same results bit for bit) timed on the same images in the same run.
Comparison rows (the detector after the pool, workers with glibc's memory
defaults) run interleaved with the warm pool; faults/img counts minor page
faults of this process and its workers per image.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SAMPLE = REPO.parent / "shared" / "data" / "handwriting_sample"


def photos(folder: Path | None, size: int = 500) -> tuple[list, str]:
    """[(name, jpeg bytes)] of labelled photos, and where they came from."""
    if folder and folder.is_dir():
        found = sorted(p for p in folder.glob("[0-9]/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if found:
            return [(f"{p.parent.name}/{p.name}", p.read_bytes()) for p in found], str(folder)
    import numpy as np
    from PIL import Image, ImageFilter

    from tests.hostile.digits import digit_image

    rng = np.random.default_rng(0)
    out = []
    for i in range(100):
        d = i % 10
        im = digit_image(d, size=size, width=int(rng.integers(3, 30)), ink=int(rng.integers(0, 90)))
        shade = np.linspace(1.0, float(rng.uniform(0.6, 1.0)), size, dtype=np.float32)[None, :]
        noisy = np.asarray(im, np.float32) * shade + rng.normal(0, 4, (size, size))
        im = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
        buf = io.BytesIO()
        im.convert("RGB").save(buf, "JPEG", quality=90)
        out.append((f"{d}/synthetic_{i:03d}.jpg", buf.getvalue()))
    return out, f"100 synthetic {size}x{size} photos"


def stage_times(model, items: list) -> dict:
    """Per-image milliseconds of each stage, run serially here (best of 3 passes)."""
    import numpy as np

    from mnist_core.handwriting.reading import BATCH_DRAFT, rejections
    from mnist_core.handwriting.decode import load_image
    from mnist_core.handwriting.preprocess import analyse, render

    from tests.core.handwriting.reference_v1 import preprocess as before

    best = {"decode": 1e9, "preprocess": 1e9, "predict": 1e9, "not a digit": 1e9, "preprocess before": 1e9}
    for _ in range(3):
        t0 = time.perf_counter()
        images = [load_image(data, name, draft=BATCH_DRAFT) for name, data in items]
        t1 = time.perf_counter()
        xs = []
        for im in images:
            a = analyse(im, keep_steps=False)
            if not a.reason:
                xs.append(render(a, a.kept).x)
        t2 = time.perf_counter()
        model.predict_proba(np.stack(xs))
        t3 = time.perf_counter()
        rejections(np.stack(xs))
        t4 = time.perf_counter()
        for im in images:  # the same stage as it was before issue 27 (its results are the same, bit for bit)
            a = before.analyse(im, keep_steps=False)
            if not a.reason:
                before.render(a, a.kept)
        t5 = time.perf_counter()
        for key, seconds in zip(best, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            best[key] = min(best[key], seconds * 1000 / len(items))
    return best


def _workers() -> tuple[float, int]:
    """CPU seconds and minor page faults so far of the pool's worker processes (Linux /proc; 0 elsewhere)."""
    from mnist_core.handwriting import reading

    pool = reading._pool
    cpu, faults = 0.0, 0
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            faults += int(fields[7])
        except (OSError, ValueError, IndexError):
            pass
    return cpu, faults


def _own() -> tuple[float, int]:
    import resource

    return time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _timed(run) -> tuple[float, object, float, int]:
    """Wall seconds, run()'s result, and CPU seconds and minor page faults of this process plus its workers.

    CPU time is what the figure would be on an otherwise idle machine: the
    cores here are shared, so wall time depends on whoever else is running."""
    (cpu0, faults0), (wcpu0, wfaults0), t0 = _own(), _workers(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - t0
    (cpu1, faults1), (wcpu1, wfaults1) = _own(), _workers()
    return wall, result, cpu1 - cpu0 + max(0.0, wcpu1 - wcpu0), faults1 - faults0 + max(0, wfaults1 - wfaults0)


def timed_evaluate(model, uploads: list, parallel: bool) -> tuple:
    from mnist_core.handwriting.reading import evaluate_images

    return _timed(lambda: evaluate_images(model, uploads, parallel=parallel))


def timed_before(model, uploads: list) -> tuple:
    """The pool as it was until the detector moved into its workers: the pool decodes and preprocesses,
    then this process runs the model and the detector on everything (the same work; no report built)."""
    import numpy as np

    from mnist_core.handwriting.collection import read_collection
    from mnist_core.handwriting.reading import process_many, rejections

    def run():
        coll = read_collection(uploads)
        results = [r for r in process_many([(it.file, it.data) for it in coll.items], parallel=True) if "x" in r]
        x = np.stack([r["x"] for r in results])[..., None]
        model.predict_proba(x)
        parts = [p for r in results if r["parts"] is not None for p in r["parts"]]
        rejections(np.concatenate([x[:, :, :, 0][[r["parts"] is None for r in results]], np.asarray(parts)])
                   if parts else x)

    return _timed(run)


def timed_untuned(model, uploads: list) -> tuple:
    """The warm pool with workers that return freed memory to the system (glibc's defaults, until
    reading.keep_freed_memory): a pool of its own, warmed up untimed, then the tuned pool restored."""
    from mnist_core.handwriting import reading

    tuned = reading.keep_freed_memory
    reading.shutdown_pool()
    # An initializer that does nothing (workers keep glibc's own memory settings). It must be importable by
    # the workers: they start without this script as their __main__ (mnist_core.processes).
    reading.keep_freed_memory = os.getpid
    try:
        timed_evaluate(model, uploads, parallel=True)
        return timed_evaluate(model, uploads, parallel=True)
    finally:
        reading.shutdown_pool()
        reading.keep_freed_memory = tuned
        timed_evaluate(model, uploads, parallel=True)  # warm again for the next round's rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="images per run (the photos are cycled)")
    parser.add_argument("--model", default="default", help="saved model name")
    parser.add_argument("--images", type=Path, default=SAMPLE, help="folder with <label>/<file>.jpg photos")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stage-n", type=int, default=200, help="images for the per-stage breakdown")
    args = parser.parse_args(argv)

    from mnist_core.handwriting import reading

    from mnist_core.models import loading, store

    try:
        model = loading.load(args.model)
    except store.StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    base, origin = photos(args.images)
    uploads = [(f"{name.split('/')[0]}/{i:05d}_{name.split('/')[1]}", data)
               for i, (name, data) in enumerate(base[j % len(base)] for j in range(args.n))]
    model.predict_proba(__import__("numpy").zeros((8, 28, 28, 1), "float32"))  # build TF's graph once
    stages = stage_times(model, uploads[:args.stage_n])

    reading.shutdown_pool()
    cold = timed_evaluate(model, uploads, parallel=True)
    serial, warm, before, untuned = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so a change in the machine's load hits all alike
        serial.append(timed_evaluate(model, uploads, parallel=False))
        warm.append(timed_evaluate(model, uploads, parallel=True))
        before.append(timed_before(model, uploads))
        untuned.append(timed_untuned(model, uploads))
    reading.shutdown_pool()
    rows = [("in this process", 1, serial), ("worker pool, first call (starts it)", reading.WORKERS, [cold]),
            ("worker pool, warm", reading.WORKERS, warm),
            ("  the same, detector after the pool (until now)", reading.WORKERS, before),
            ("  the same, workers with glibc's memory defaults", reading.WORKERS, untuned)]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"batch throughput: {args.n} JPEG photos ({origin}), model '{args.model}', "
          f"{os.cpu_count()} CPU cores, load average {load:.1f} at the end")
    print(f"{'evaluate_images: decode + preprocess + predict':<48} {'workers':>7} {'seconds':>8} "
          f"{'images/s':>9} {'CPU ms/img':>10} {'faults/img':>10} {'accuracy':>9}")
    for label, workers, runs in rows:
        seconds = statistics.median(r[0] for r in runs)
        cpu_ms = statistics.median(r[2] for r in runs) * 1000 / args.n
        faults = statistics.median(r[3] for r in runs) / args.n
        report = runs[0][1]
        acc = f"{report.accuracy:.4f}" if report is not None and report.accuracy is not None else "-"
        print(f"  {label:<46} {workers:>7} {seconds:>8.2f} {args.n / seconds:>9.0f} {cpu_ms:>10.2f} {faults:>10.1f} "
              f"{acc:>9}")
    warm_cpu = statistics.median(r[2] for r in warm) / args.n
    print(f"CPU time per image with the pool: {warm_cpu * 1000:.2f} ms, i.e. {reading.WORKERS / warm_cpu:.0f} "
          f"images/s when {reading.WORKERS} cores are free for it")
    print(f"per image, serial (best of 3 over {min(args.stage_n, args.n)} images):")
    for stage, ms in stages.items():
        if stage != "preprocess before":
            print(f"  {stage:<58} {ms:>7.2f} ms")
    print(f"  {'preprocess as before issue 27 (tests/.../reference_v1), same run':<58} "
          f"{stages['preprocess before']:>7.2f} ms ({stages['preprocess before'] / stages['preprocess']:.2f}x)")
    skipped = serial[0][1].skipped
    if skipped:
        print(f"skipped {len(skipped)} file(s), e.g. {skipped[0]['file']}: {skipped[0]['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
