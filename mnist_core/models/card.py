"""What a model card says about a model's test performance, in one place.

Training and ensemble creation both fill a card's evaluation fields here,
so every card measures and formats them the same way.
"""

from __future__ import annotations

import time

import numpy as np

from mnist_core.analysis import evaluate


def timestamp() -> str:
    """The local time as cards and selections record it (ISO 8601 with the UTC offset)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def inference_ms(model, image: np.ndarray, repeats: int = 30) -> float:
    """Median wall time of one single-image model.predict_proba, after warm-up."""
    model.predict_proba(image)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict_proba(image)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def evaluation_fields(model, splits) -> dict:
    """A card's test-set fields for a model (anything with predict_proba) evaluated on splits' test set."""
    report = evaluate.evaluate_model(model, splits.x_test, splits.y_test, mistakes_limit=0)
    return {"test_accuracy": report["accuracy"], "test_loss": report["loss"], "test_ci95": report["ci95"],
            "confusion": report["confusion"], "per_class": report["per_class"],
            "inference_ms": round(inference_ms(model, splits.x_test[:1]), 3),
            "dataset_sha256": splits.sha256, "created": timestamp()}
