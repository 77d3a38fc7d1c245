"""Bring your own model: import a Keras, HDF5, ONNX, LiteRT or SavedModel file into the store.

    opened = open_file(path)                 # what the file is; every refusal happens here or in detect
    found = detect(opened)                   # its input layout, pixel scale, polarity, logits or probabilities
    card = save(opened, found, "mine")       # test accuracy measured now, file and card written atomically

`import_model(path, name, ...)` does all three. Nothing is written before
every check has passed. open_file and its checks live in model_files.py.

- Formats: `.keras`, legacy HDF5 `.h5` (re-saved as `.keras`), `.onnx`
  (run with onnxruntime), `.tflite` (run with ai-edge-litert), and a
  TensorFlow SavedModel folder or ZIP (converted to LiteRT with built-in
  operators only). Backends: keras, onnx, litert.
- Safe: Keras files load with safe_mode=True (a Lambda layer's Python code
  is refused, with the reason), custom classes are refused, nothing in a
  file runs except through its runtime; a file over MAX_BYTES, or one that
  is not what its extension says, is refused before it is parsed.
- The convention (convention.py): the layout from the input shape; the
  pixel scale and the polarity by scoring each candidate on a slice of the
  task's validation split (MNIST's last 5,000 training images for digits)
  and keeping the most accurate (when several are within TIE of it, the one
  with the lowest log loss: a model fed pixels 255 times too bright often
  still picks the right class, but with absurd confidence); logits when the
  outputs are not probability rows. A flag fixes any part. Inputs that are
  not one 28x28 image, and outputs that are not the task's classes, are
  refused, naming what was found and what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_core import access
from mnist_core.models import card as model_card
from mnist_core.models import convention as conv_mod
from mnist_core.models import loading, store
from mnist_core.models.convention import Convention
# What a file is (model_files.py); named here too, as callers have always found them.
from mnist_core.models.model_files import (BACKENDS, FORMAT_WORDS, MAX_BYTES, ImportRefused,  # noqa: F401
                                           Opened, open_file)


DETECT_N = 1000
TIE = 0.01  # accuracies within one point of the best are a tie, settled by log loss
LOW_ACCURACY = 0.5  # below this on the slice, the import goes ahead with a warning
CLOSE_MARGIN = 0.02  # a runner-up this close in accuracy and CLOSE_LOSS in log loss is worth a warning
CLOSE_LOSS = 0.1


@dataclass
class Detection:
    convention: Convention
    candidates: list  # one dict per candidate: input, scale, invert, accuracy, loss
    chosen_by: dict  # input/scale/invert/outputs -> "flag", "input shape" or "scored"
    margin: float | None  # chosen accuracy minus the best other candidate's; None with one candidate
    probe: str  # what the candidates were scored on
    outputs_evidence: str
    warnings: list = field(default_factory=list)
    runner_up: dict | None = None  # the best other candidate

    @property
    def chosen(self) -> dict:
        c = self.convention
        return next(r for r in self.candidates if (r["input"], r["scale"], r["invert"]) == (c.input, c.scale, c.invert))

    def to_dict(self) -> dict:
        return {"convention": self.convention.to_dict(), "chosen_by": self.chosen_by, "margin": self.margin,
                "probe": self.probe, "outputs_evidence": self.outputs_evidence, "warnings": list(self.warnings),
                "runner_up": self.runner_up, "candidates": self.candidates}


# -- working out the convention -----------------------------------------------------------------

def validation_probe(task: str = "digits", n: int = DETECT_N) -> tuple[np.ndarray, np.ndarray, str]:
    """(x, y, description): the first n images of the task's validation split, studio style."""
    if task == "shapes":
        from mnist_core.data import shapes

        x, y = shapes.load_split("validation")
        order = np.random.default_rng(0).permutation(len(y))[:n]
        return (np.asarray(x, np.float32).reshape(-1, 28, 28, 1)[order], np.asarray(y)[order],
                f"{len(order):,} images of the generated shapes' validation split")
    from mnist_core.data import mnist

    raw = mnist.load_mnist()
    start = len(raw.x_train) - mnist.VALIDATION_SIZE
    x = mnist.to_model_input(raw.x_train[start:start + n])
    return x, raw.y_train[start:start + n].astype(np.int32), f"the first {len(x):,} images of MNIST's validation split"


def detect(opened: Opened, task: str = "digits", input: str | None = None, scale: str | None = None,
           invert: bool | None = None, outputs: str | None = None, probe=None) -> Detection:
    """Score every convention the flags leave open on the validation slice; keep the best (see the module)."""
    from mnist_core.tasks import TASKS, class_names

    shown = opened.source["file"]
    if task not in TASKS:
        raise ImportRefused(f"unknown task '{task}': tasks are {', '.join(TASKS)}")
    names = class_names(task)
    for flag, value, allowed in (("--input", input, conv_mod.LAYOUTS), ("--scale", scale, conv_mod.SCALES),
                                 ("--outputs", outputs, conv_mod.OUTPUTS)):
        if value is not None and value not in allowed:
            raise ImportRefused(f"{flag} {value}: accepted values are {', '.join(allowed)}")
    found = conv_mod.shape_text(opened.input_dims)
    layouts = conv_mod.layouts_for(opened.input_dims)
    if not layouts:
        raise ImportRefused(f"cannot import '{shown}': its input is shaped {found}, which is not one 28x28 image; "
                            f"accepted: {conv_mod.accepted_shapes()}")
    if input is not None:
        if input not in layouts:
            raise ImportRefused(f"--input {input} does not fit '{shown}', whose input is shaped {found} "
                                f"(it allows {', '.join(layouts)})")
        layouts = [input]
    x, y, where = probe if probe is not None else validation_probe(task)
    x, y = np.asarray(x, np.float32).reshape(-1, 28, 28, 1), np.asarray(y)
    rows = []
    for layout in layouts:
        for sc in [scale] if scale else list(conv_mod.SCALES):
            for inv in [invert] if invert is not None else [False, True]:
                candidate = Convention(layout, sc, bool(inv))
                try:
                    raw = opened.run(candidate.to_native(x))
                except Exception as exc:  # noqa: BLE001 - the runtime's reason
                    raise ImportRefused(f"cannot import '{shown}': running it on {layout} input failed "
                                        f"({type(exc).__name__}: {str(exc).strip()[:300]})") from None
                rows.append(_score(raw, y, candidate, names, task, shown))
    best = max(r["accuracy"] for r in rows)
    chosen = min((r for r in rows if r["accuracy"] >= best - TIE), key=lambda r: (r["loss"], -r["accuracy"]))
    others = sorted((r for r in rows if r is not chosen), key=lambda r: (-r["accuracy"], r["loss"]))
    runner = others[0] if others else None
    margin = round(chosen["accuracy"] - runner["accuracy"], 4) if runner else None
    probs_like = chosen.pop("_probs")
    for r in rows:
        r.pop("_probs", None)
    evidence = chosen.pop("_evidence")
    for r in rows:
        r.pop("_evidence", None)
    kind = outputs or ("probs" if probs_like else "logits")
    convention = Convention(chosen["input"], chosen["scale"], chosen["invert"], kind)
    chosen_by = {"input": "flag" if input else ("input shape" if len(layouts) == 1 else "scored"),
                 "scale": "flag" if scale else "scored", "invert": "flag" if invert is not None else "scored",
                 "outputs": "flag" if outputs else "outputs"}
    warnings = []
    if not np.isfinite(chosen["loss"]):
        raise ImportRefused(f"cannot import '{shown}': it returns NaN or infinite scores on {where}")
    if chosen["accuracy"] < LOW_ACCURACY:
        warnings.append(f"it reads only {chosen['accuracy']:.1%} of {where} under its best convention: check that it "
                        f"is a {task} model, or set --input, --scale and --invert yourself")
    if runner and margin < CLOSE_MARGIN and runner["loss"] - chosen["loss"] < CLOSE_LOSS:
        warnings.append(f"close call: {_words(runner)} reads {runner['accuracy']:.1%} (log loss {runner['loss']:.3f}) "
                        f"against {chosen['accuracy']:.1%} (log loss {chosen['loss']:.3f}); set the flags to be sure")
    if outputs == "probs" and not probs_like:
        warnings.append(f"--outputs probs, but its rows are not probabilities ({evidence})")
    for r in rows:  # JSON has no infinity: a candidate under which the model returned NaN has no loss
        r["loss"] = r["loss"] if np.isfinite(r["loss"]) else None
    return Detection(convention, rows, chosen_by, margin, where, evidence, warnings,
                     runner_up=dict(runner) if runner else None)


def _score(raw: np.ndarray, y: np.ndarray, candidate: Convention, names, task: str, shown: str) -> dict:
    raw = np.asarray(raw, np.float32)
    if raw.ndim < 1 or len(raw) != len(y) or raw.size != len(y) * len(names):
        found = "(batch, " + ", ".join(str(d) for d in raw.shape[1:]) + ")" if raw.ndim else "a scalar"
        raise ImportRefused(f"cannot import '{shown}': its output is shaped {found}; a {task} model gives "
                            f"{len(names)} class scores per image, (batch, {len(names)}), in the order "
                            f"{', '.join(names)}")
    raw = raw.reshape(len(y), len(names))
    probs_like, evidence = conv_mod.looks_like_probabilities(raw)
    p = raw if probs_like else conv_mod.softmax(raw)
    with np.errstate(invalid="ignore"):
        picked = np.clip(p[np.arange(len(y)), y], 1e-7, 1.0)
    loss = float(-np.mean(np.log(picked))) if np.all(np.isfinite(raw)) else float("inf")
    accuracy = float(np.mean(np.nan_to_num(raw, nan=-np.inf).argmax(axis=1) == y)) if len(y) else 0.0
    return {"input": candidate.input, "scale": candidate.scale, "invert": candidate.invert,
            "accuracy": round(accuracy, 4), "loss": round(loss, 4) if np.isfinite(loss) else float("inf"),
            "_probs": probs_like, "_evidence": evidence}


def _words(row: dict) -> str:
    return f"{row['input']}, {row['scale']}{', inverted' if row['invert'] else ''}"


# -- into the store ------------------------------------------------------------------------

def import_model(path, name: str, *, replace: bool = False, task: str = "digits", input: str | None = None,
                 scale: str | None = None, invert: bool | None = None, outputs: str | None = None,
                 description: str | None = None, root: Path | None = None, probe=None, test_set=None,
                 source_name: str | None = None) -> dict:
    """open_file, detect, save: the new card (with `detection` for what was found)."""
    access.require_editor(f"import model '{name}'")
    store.check_new_name(name, replace=replace, root=root)  # before the work: a refused name costs nothing
    opened = open_file(path, source_name)
    found = detect(opened, task, input, scale, invert, outputs, probe)
    return save(opened, found, name, replace=replace, task=task, description=description, root=root,
                test_set=test_set)


def adapted(opened: Opened, convention: Convention):
    """The network the loader will build from the stored file and this convention (the same code)."""
    if opened.backend == "keras":
        return conv_mod.keras_adapted(opened.net, convention)
    opened.net.convention = convention
    return opened.net


def save(opened: Opened, found: Detection, name: str, *, replace: bool = False, task: str = "digits",
         description: str | None = None, root: Path | None = None, test_set=None) -> dict:
    """Measure the test accuracy under the detected convention, then write file and card atomically."""
    from types import SimpleNamespace

    from mnist_core.tasks import class_names

    access.require_editor(f"import model '{name}'")
    store.check_new_name(name, replace=replace, root=root)
    conv = found.convention
    net = adapted(opened, conv)
    model = loading.LoadedModel(name, {"task": task}, net, opened.backend)
    if test_set is None:
        from mnist_core.analysis import testset

        test_set = testset.load(task)
    split = SimpleNamespace(x_test=test_set.x, y_test=test_set.y, sha256=test_set.sha256)
    fields = model_card.evaluation_fields(model, split)
    source = {**opened.source, "stored_as": store.FILES[opened.backend]}
    card = {
        "name": name, "kind": f"imported ({opened.format})", "backend": opened.backend, "imported": True,
        "task": task, "class_names": list(class_names(task)),
        "description": description or f"Imported from {source['file']} ({FORMAT_WORDS[opened.format]}); "
                                      "its test accuracy was measured on import.",
        "source": source, "convention": conv.to_dict(), "detection": found.to_dict(), "import_notes": opened.notes,
        **fields, "accuracy_measured": "on import, on the task's test set, under the stored convention",
        "history": {}, "params": int(model.count_params()), "train_seconds": None, "train_size": None,
        "config": {}, "versions": _versions(opened), "run_id": None,
    }
    store.save(name, opened.stored, card, root)
    return store.read_card(name, root)


def _versions(opened: Opened) -> dict:
    from importlib import metadata

    packages = {"keras": ["keras", "tensorflow-cpu"], "onnx": ["onnxruntime", "onnx"], "litert": ["ai-edge-litert"]}
    out = {}
    for package in packages[opened.backend] + (["tensorflow-cpu"] if opened.format == "savedmodel" else []):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return out


def summary(card: dict) -> list[tuple[str, str, str]]:
    """(part, what was found, how): the lines the CLI prints and the Models page shows."""
    detection = card.get("detection") or {}
    return describe(Convention.from_dict(card["convention"]), detection)


def describe(conv: Convention, detection: dict) -> list[tuple[str, str, str]]:
    words = conv.describe()
    chosen_by = detection.get("chosen_by") or {}
    rows = detection.get("candidates") or []
    chosen = next((r for r in rows if (r["input"], r["scale"], r["invert"]) == (conv.input, conv.scale, conv.invert)),
                  None)
    margin, runner = detection.get("margin"), detection.get("runner_up")
    scored = "scored" if not chosen else (
        f"scored best: {chosen['accuracy']:.1%}, log loss {chosen['loss']:.3f}" + (
            f"; next {_words(runner)}: {runner['accuracy']:.1%} ({margin * 100:+.1f} points), log loss "
            + (f"{runner['loss']:.3f}" if runner["loss"] is not None else "none (NaN scores)")
            if runner and margin is not None else ""))
    how = {"flag": "set by flag", "input shape": "from the input shape", "outputs": detection.get("outputs_evidence")}
    return [("input", words["input"], how.get(chosen_by.get("input"), scored)),
            ("scale", words["scale"], how.get(chosen_by.get("scale"), scored)),
            ("polarity", words["polarity"], how.get(chosen_by.get("invert"), "scored with the scale" if
                                                    chosen_by.get("scale") == "scored" else scored)),
            ("outputs", words["outputs"], "set by flag" if chosen_by.get("outputs") == "flag"
             else f"from the outputs: {detection.get('outputs_evidence')}")]


def candidate_rows(detection: dict) -> list[dict]:
    """The scored candidates for a table: the chosen one first, then the others by accuracy."""
    c = detection.get("convention") or {}
    picked = (c.get("input"), c.get("scale"), c.get("invert"))

    def chosen(r: dict) -> bool:
        return (r["input"], r["scale"], r["invert"]) == picked

    rows = sorted(detection.get("candidates") or [],
                  key=lambda r: (not chosen(r), -r["accuracy"], float("inf") if r["loss"] is None else r["loss"]))
    return [{"chosen": chosen(r), "input": r["input"], "scale": r["scale"], "inverted": r["invert"],
             "accuracy": r["accuracy"], "log loss": r["loss"]} for r in rows]

