"""Fine-tuning: adapt a saved model to a labelled handwriting collection, measured honestly.

The collection is split into an adaptation part and a held-out part the new
model never learns from: stratified by label with a seed, by writer (the
folder level beside the label folder: `label/writer/file` or
`writer/label/file`), or a separate held-out collection. Images go through
the same decoding and preprocessing as evaluation (reading.process_many),
then through the training augmentation. Adaptation mixes them with MNIST
replay (so nothing is forgotten) at a small learning rate for a few epochs,
batch norm frozen; early stopping looks at a validation slice of the
adaptation part only. The held-out part and the MNIST test set are measured
before and after and never choose anything.

Everything that can be wrong with the input is checked before the first
epoch and reported as a FinetuneError that says what was wrong and what is
accepted; nothing is written then. A fine-tuning run is a run directory like
a training run (config.json holds the base model's TrainConfig), plus
finetune.json (FinetuneConfig), status kind "finetune" and, once done,
heldout.npz (the held-out inputs with both models' probabilities).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path, PurePosixPath

import numpy as np

from mnist_core import access, paths
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.rundir import RunDir, failure_reason, list_runs

FINETUNE_FILE = "finetune.json"
HELDOUT_FILE = "heldout.npz"
UPLOADS_MANIFEST = "uploads.json"
KIND = "finetune"
MNIST_LIMIT = 0.001  # the MNIST test accuracy may fall by at most 0.1 points
MIN_PER_CLASS = 2  # one image to adapt on and one held out
CHANGED_LIMIT = 500  # held-out images listed in the card as fixed or broken
FORMATS_HELP = ("label folders named 0-9 (7/x.png), a writer level beside them (7/alice/x.png or alice/7/x.png), "
                "or names that start with the digit (7_x.png)")


class FinetuneError(ConfigError):
    """The fine-tuning request cannot be honoured; the message says why and what is accepted."""


@dataclass
class FinetuneConfig:
    base: str
    images: str  # a folder or a ZIP of labelled images
    holdout: float = 0.5  # fraction held out (of each label, or of the writers)
    holdout_images: str | None = None  # a separate held-out collection instead of a split
    by_writer: bool = False
    epochs: int = 3
    lr: float = 1e-4
    # MNIST training images mixed in per adaptation image. Measured on the scripted domain
    # (bench/finetune.py): 4x let the MNIST test accuracy fall 0.54 points, 16x 0.05.
    replay: float = 16.0
    min_replay: int = 4000  # at least this many: a small adaptation set still sees enough of MNIST
    batch_size: int = 32
    validation: float = 0.2  # of each label of the adaptation part, for early stopping
    patience: int = 2
    augment: bool = True
    freeze_batch_norm: bool = True
    distill: bool = True  # replay targets: the base model's own probabilities (else MNIST's labels)
    seed: int = 0
    name: str | None = None

    def validate(self) -> "FinetuneConfig":
        from mnist_core.models.store import InvalidName, validate_name

        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise FinetuneError(msg)

        need(isinstance(self.base, str) and self.base, "name the base model to fine-tune (--base)")
        need(isinstance(self.images, str) and self.images, "give the labelled images to learn from (--images)")
        need(self.holdout_images is not None or 0 < float(self.holdout) < 1,
             f"holdout must be a fraction between 0 and 1 (e.g. 0.5), got {self.holdout!r}")
        need(not (self.by_writer and self.holdout_images), "give either --by-writer or --holdout-images, not both: "
                                                           "a separate held-out collection is already apart")
        need(isinstance(self.epochs, int) and 1 <= self.epochs <= 100, f"epochs must be 1-100, got {self.epochs!r}")
        need(0 < float(self.lr) <= 0.1, f"learning rate must be in (0, 0.1], got {self.lr!r}")
        need(0 <= float(self.replay) <= 100, f"replay must be 0-100 MNIST images per adaptation image, "
                                             f"got {self.replay!r}")
        need(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 4096,
             f"batch size must be 1-4096, got {self.batch_size!r}")
        need(0 <= float(self.validation) < 1, f"validation must be a fraction in [0, 1), got {self.validation!r}")
        need(isinstance(self.patience, int) and self.patience >= 1, "patience must be 1 or more epochs")
        need(isinstance(self.min_replay, int) and 0 <= self.min_replay <= 60000,
             f"min_replay must be 0-60000 MNIST images, got {self.min_replay!r}")
        need(isinstance(self.seed, int) and self.seed >= 0, f"seed must be a non-negative integer, got {self.seed!r}")
        for label, value in (("base model", self.base), ("new model name", self.name)):
            if value is not None:
                try:
                    validate_name(value)
                except InvalidName as exc:
                    raise FinetuneError(f"{label}: {exc}") from None
        need(self.name != self.base, f"the fine-tuned model needs a name other than its base '{self.base}': "
                                     "the base stays as it is")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FinetuneConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FinetuneError(f"unknown fine-tuning keys {unknown}; known keys are {sorted(known)}")
        return cls(**data)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> "FinetuneConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))


# -- reading a labelled collection ------------------------------------------------

@dataclass
class Samples:
    """Model inputs of a labelled collection, with where each came from."""

    x: np.ndarray  # (N, 28, 28, 1) float32, exactly what evaluation feeds the model
    y: np.ndarray  # (N,) int
    files: list
    writers: list  # writer per image, None where the path names none
    digests: list  # sha256 of each file's bytes
    source: str = ""
    sha256: str = ""  # the collection's checksum: files, labels and contents
    n_files: int = 0  # images in the collection, labelled or not
    skipped: list = field(default_factory=list)  # [{file, reason}]

    def take(self, idx) -> "Samples":
        idx = np.asarray(idx, dtype=int)
        pick = (lambda seq: [seq[i] for i in idx])
        return Samples(self.x[idx], self.y[idx], pick(self.files), pick(self.writers), pick(self.digests),
                       self.source, self.sha256, self.n_files, [])

    def counts(self) -> dict:
        return {int(k): int(v) for k, v in zip(*np.unique(self.y, return_counts=True))}


def label_and_writer(file: str, label: int | None) -> tuple:
    """(label, writer) from a collection path; the writer is the folder level beside the label folder."""
    folders = PurePosixPath(file).parts[:-1]
    digit = (lambda s: re.fullmatch(r"[0-9]", s) is not None)
    if folders and digit(folders[-1]):  # writer/7/x.png (or just 7/x.png)
        return int(folders[-1]), folders[-2] if len(folders) >= 2 else None
    if len(folders) >= 2 and digit(folders[-2]):  # 7/writer/x.png
        return int(folders[-2]), folders[-1]
    return label, (folders[-1] if folders and label is not None else None)  # writer/7_x.png


def read_samples(source, what: str = "the collection") -> Samples:
    """Labelled model inputs of a folder, ZIP or [(name, bytes)]; a FinetuneError when none are usable."""
    from mnist_core.handwriting.collection import read_collection
    from mnist_core.handwriting.reading import process_many

    if isinstance(source, (str, os.PathLike)) and Path(source).name == UPLOADS_MANIFEST and Path(source).is_file():
        source = _uploads(Path(source))  # uploads kept by a dashboard run (save_uploads)
    try:
        coll = read_collection(source)
    except FileNotFoundError as exc:
        raise FinetuneError(f"{what}: {exc}") from None
    name = source if isinstance(source, (str, os.PathLike)) else f"{len(source)} uploaded file(s)"
    skipped, labelled, seen = list(coll.skipped), [], {}
    for item in coll.items:
        label, writer = label_and_writer(item.file, item.label)
        digest = hashlib.sha256(item.data).hexdigest()
        if label is None:
            skipped.append({"file": item.file, "reason": "no label in its folder or name"})
        elif digest in seen:  # a copy could land on both sides of the split
            skipped.append({"file": item.file, "reason": f"same content as {seen[digest]}: used once"})
        else:
            seen[digest] = item.file
            labelled.append((item, label, writer, digest))
    if not labelled:
        raise FinetuneError(f"{what} ({name}) has no labelled image ({len(coll.items)} image(s) read, "
                            f"{len(coll.skipped)} skipped): fine-tuning needs labels, given by {FORMATS_HELP}")
    results = process_many([(it.file, it.data) for it, *_ in labelled])
    xs, rows = [], []
    for (item, label, writer, digest), r in zip(labelled, results):
        if "reason" in r:
            skipped.append({"file": item.file, "reason": r["reason"]})
        elif r.get("parts") is not None:
            skipped.append({"file": item.file, "reason": f"holds {len(r['parts'])} digits; a labelled image "
                                                         "for fine-tuning must hold one"})
        else:
            xs.append(r["x"])
            rows.append((item.file, label, writer, digest))
    if not rows:
        raise FinetuneError(f"{what} ({name}): none of its {len(labelled)} labelled image(s) holds a readable "
                            f"digit; for example {skipped[-1]['file']}: {skipped[-1]['reason']}")
    files, labels, writers, digests = (list(c) for c in zip(*rows))
    checksum = hashlib.sha256("\n".join(sorted(f"{f}\0{l}\0{d}" for f, l, d in zip(files, labels, digests)))
                              .encode()).hexdigest()
    return Samples(np.stack(xs)[..., None].astype(np.float32), np.asarray(labels, np.int64), files, writers,
                   digests, str(name), checksum, len(coll.items), skipped)


# -- splits ---------------------------------------------------------------------------

def _count_text(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(adapt, held-out) indices: about `fraction` of every label held out, at least one on each side."""
    counts = {int(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))}
    short = {k: v for k, v in counts.items() if v < MIN_PER_CLASS}
    if short:
        raise FinetuneError(
            f"too few labelled images to split: every digit needs at least {MIN_PER_CLASS} (one to adapt on, one "
            f"held out); too few for {_count_text(short)} (images per digit: {_count_text(counts)}). Add images "
            "of those digits, or give a separate held-out collection")
    rng = np.random.default_rng(seed)
    adapt, held = [], []
    for label in sorted(counts):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_held = min(max(1, round(len(idx) * fraction)), len(idx) - 1)
        held.extend(idx[:n_held])
        adapt.extend(idx[n_held:])
    return np.sort(np.asarray(adapt, int)), np.sort(np.asarray(held, int))


def writer_split(writers: list, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(adapt, held-out) indices with whole writers on each side: no held-out writer is ever seen."""
    missing = [i for i, w in enumerate(writers) if w is None]
    if missing:
        raise FinetuneError(f"a split by writer needs a writer folder for every image ({FORMATS_HELP}); "
                            f"{len(missing)} image(s) have none")
    names = sorted(set(writers))
    if len(names) < 2:
        raise FinetuneError(f"a split by writer needs at least 2 writers; the collection has {len(names)} "
                            f"({', '.join(names)}): split by label instead, or add another writer's images")
    order = list(np.random.default_rng(seed).permutation(names))
    n_held = min(max(1, round(len(names) * fraction)), len(names) - 1)
    held_writers = set(order[:n_held])
    held = np.asarray([i for i, w in enumerate(writers) if w in held_writers], int)
    adapt = np.asarray([i for i, w in enumerate(writers) if w not in held_writers], int)
    return adapt, held


def validation_slice(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of the adaptation part: floor(fraction) of each label for validation."""
    rng = np.random.default_rng(seed + 1)
    train, val = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_val = int(len(idx) * fraction) if len(idx) > 1 else 0
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.asarray(train, int)), np.sort(np.asarray(val, int))


def overlap(a: Samples, b: Samples) -> list:
    """Pairs (file in a, file in b) with the same content."""
    where = dict(zip(a.digests, a.files))
    return [(where[d], f) for d, f in zip(b.digests, b.files) if d in where]


@dataclass
class Plan:
    """What a fine-tuning will learn from and be measured on, checked before any training."""

    config: FinetuneConfig
    collection: Samples
    train: Samples  # adaptation images trained on
    val: Samples  # adaptation images that decide early stopping
    heldout: Samples
    method: str  # stratified | by_writer | separate
    holdout_collection: Samples | None = None

    def split_info(self) -> dict:
        info = {"method": self.method, "seed": self.config.seed, "adapt_n": len(self.train.y) + len(self.val.y),
                "train_n": len(self.train.y), "val_n": len(self.val.y), "heldout_n": len(self.heldout.y),
                "adapt_per_class": _merge(self.train.counts(), self.val.counts()),
                "heldout_per_class": self.heldout.counts()}
        if self.method != "separate":
            info["holdout"] = float(self.config.holdout)
        if self.method == "by_writer":
            info["adapt_writers"] = sorted(set(self.train.writers) | set(self.val.writers))
            info["heldout_writers"] = sorted(set(self.heldout.writers))
        return info


def _merge(a: dict, b: dict) -> dict:
    return {k: a.get(k, 0) + b.get(k, 0) for k in sorted(set(a) | set(b))}


def plan(config: FinetuneConfig, images=None, holdout_images=None) -> Plan:
    """Read and split the collections (images/holdout_images override the config's paths, e.g. uploads)."""
    config.validate()
    coll = read_samples(images if images is not None else config.images, "the adaptation collection")
    held_coll = None
    if config.holdout_images is not None or holdout_images is not None:
        held_coll = read_samples(holdout_images if holdout_images is not None else config.holdout_images,
                                 "the held-out collection")
        shared = overlap(coll, held_coll)
        if shared:
            examples = "; ".join(f"{a} = {b}" for a, b in shared[:5])
            raise FinetuneError(f"the held-out collection shares {len(shared)} image(s) with the adaptation one "
                                f"(same file content), so it would not be held out: {examples}. Remove them "
                                "from one of the two")
        adapt, held, method = coll, held_coll, "separate"
    else:
        split = writer_split if config.by_writer else stratified_split
        a_idx, h_idx = split(coll.writers if config.by_writer else coll.y, float(config.holdout), config.seed)
        adapt, held = coll.take(a_idx), coll.take(h_idx)
        method = "by_writer" if config.by_writer else "stratified"
    t_idx, v_idx = validation_slice(adapt.y, float(config.validation), config.seed)
    return Plan(config, coll, adapt.take(t_idx), adapt.take(v_idx), held, method, held_coll)


# -- the base model ----------------------------------------------------------------------

def check_base(name: str, root: Path | None = None) -> dict:
    """The base model's card; a clear error for a model that is missing or cannot be fine-tuned."""
    from mnist_core.models import store

    card = store.read_card(name, root)  # ModelNotFound says which models exist
    if card.get("kind") == "ensemble":
        members = ", ".join(card.get("members") or [])
        raise FinetuneError(
            f"model '{name}' is an ensemble (the average of {members}); fine-tuning changes one network's weights, "
            "and tuning the members together against their average would make them one model. Fine-tune each "
            "member you want (--base MEMBER) and combine the results with `python -m mnist_core ensemble`")
    if card.get("backend") != "keras":
        keras_models = [c["name"] for c in store.list_models(root) if c.get("backend") == "keras"]
        raise FinetuneError(f"model '{name}' is a NumPy net (backend {card.get('backend')!r}); fine-tuning needs a "
                            f"Keras model" + (f": {', '.join(keras_models)}" if keras_models else ""))
    return card


def default_name(base: str) -> str:
    return f"{base[:40]}-ft-{time.strftime('%Y%m%d-%H%M%S')}"


def _train_config(base_card: dict, config: FinetuneConfig, name: str) -> TrainConfig:
    """The base's recipe with fine-tuning's epochs, rate and batches (its augmentation ranges kept)."""
    try:
        base = TrainConfig.from_dict(base_card.get("config") or {})
    except (ConfigError, TypeError):
        base = TrainConfig(model=base_card.get("kind") or "cnn")
    return replace(base, epochs=config.epochs, lr=float(config.lr), batch_size=config.batch_size,
                   optimizer="adam", schedule="constant", augment=bool(config.augment), seed=config.seed,
                   name=name, precision="float32", train_subset=None, steps_per_execution=1, weight_decay=0.0)


def _freeze_batch_norm(net) -> int:
    """Batch norm keeps MNIST's statistics (a frozen BN layer runs in inference mode in Keras 3)."""
    import keras

    frozen = 0
    for layer in net._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
            frozen += 1
    return frozen


# -- fine-tuning ----------------------------------------------------------------------------

def finetune(config: FinetuneConfig, run: RunDir | None = None, progress=None, splits=None,
             store_root: Path | None = None, images=None, holdout_images=None, prepared: Plan | None = None) -> dict:
    """Fine-tune config.base on its collection, measure before and after, save; returns the new card.

    Every input problem raises FinetuneError (or a StoreError for the base) before anything is written.
    """
    from mnist_core.models import store

    config.validate()
    name = config.name or default_name(config.base)
    access.require_editor(f"fine-tune model '{config.base}' into '{name}'")
    base_card = check_base(config.base, store_root)
    if name in store.list_names(store_root):
        raise FinetuneError(f"a model named '{name}' already exists; choose another name (--name) or delete it")
    the_plan = prepared or plan(config, images, holdout_images)
    if run:
        run.write_status("running", pid=os.getpid(), started=time.time(), model_name=name)
        run.append_event("start", config=config.to_dict(), name=name)
    from mnist_core.training.loop import Cancelled

    try:
        card = _finetune(the_plan, base_card, name, run, progress, splits, store_root)
    except Cancelled:
        if run:
            run.append_event("end", state="cancelled")
            run.write_status("cancelled", ended=time.time(), error="cancelled at the user's request")
        raise
    except BaseException as exc:
        if run:
            message = failure_reason(exc)
            run.append_event("end", state="failed", error=message)
            run.write_status("failed", ended=time.time(), error=message)
        raise
    if run:
        ft = card["finetune"]
        run.append_event("end", state="completed", test_accuracy=card["test_accuracy"], name=name,
                         heldout_before=ft["heldout_before"], heldout_after=ft["heldout_after"])
        run.write_status("completed", ended=time.time(), progress=1.0, test_accuracy=card["test_accuracy"],
                         heldout_before=ft["heldout_before"], heldout_after=ft["heldout_after"],
                         success=ft["success"])
    return card


def _replay(splits, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(seed + 2).choice(len(splits.x_train), size=min(n, len(splits.x_train)),
                                                 replace=False)
    return splits.x_train[idx], splits.y_train[idx].astype(np.int64)


def _fit(net, plan_: Plan, cfg: TrainConfig, splits, broadcast_observers, base=None) -> dict:
    import keras

    from mnist_core.training.callback import ProgressCallback
    from mnist_core.training.loop import Cancelled, _dataset
    from mnist_core.training.observers import Broadcast

    config = plan_.config
    n_replay = int(round(config.replay * len(plan_.train.y)))
    rx, ry = _replay(splits, max(n_replay, int(config.min_replay)) if config.replay else 0, config.seed)
    x = np.concatenate([plan_.train.x, rx]).astype(np.float32)
    # Replay targets are the base's own probabilities (distillation): they hold its answers on MNIST,
    # margins included, where hard labels only hold the argmax.
    replay_targets = base.predict_proba(rx) if config.distill and base is not None else np.eye(10)[ry]
    y = np.concatenate([np.eye(10)[plan_.train.y], replay_targets]).astype(np.float32)
    net.compile(optimizer=keras.optimizers.Adam(float(config.lr)), loss="categorical_crossentropy",
                metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    broadcast = Broadcast(config.epochs, math.ceil(len(x) / config.batch_size), broadcast_observers)
    callback = ProgressCallback(broadcast)
    callbacks = [callback]
    has_val = len(plan_.val.y) > 0
    if has_val:  # the adaptation part's own slice decides; the held-out part and MNIST's test set never do
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                                       restore_best_weights=True))
    history = net.fit(_dataset(x, y, cfg), epochs=config.epochs, verbose=0, shuffle=False, callbacks=callbacks,
                      validation_data=(plan_.val.x, np.eye(10, dtype=np.float32)[plan_.val.y]) if has_val else None)
    if callback.cancelled:
        raise Cancelled()
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    out = {"history": hist, "replay_n": len(rx), "train_size": len(x)}
    if has_val and hist.get("val_loss"):
        out["best_epoch"] = int(np.argmin(hist["val_loss"])) + 1
    return out


def _finetune(plan_: Plan, base_card: dict, name: str, run, progress, splits, store_root) -> dict:
    from mnist_core.analysis import evaluate
    from mnist_core.data import mnist as data_mod
    from mnist_core.models import card as model_card, loading, store
    from mnist_core.training.loop import _seed_everything, versions
    from mnist_core.training.observers import RunLogger

    config, t0 = plan_.config, time.time()
    splits = splits or data_mod.load_splits()
    cfg = _train_config(base_card, config, name)
    _seed_everything(config.seed)
    base = loading.load(config.base, store_root)
    held_before = base.predict_proba(plan_.heldout.x)
    mnist_before = evaluate.evaluate_model(base, splits.x_test, splits.y_test, mistakes_limit=0)
    net = base.net  # a fresh copy from the store: the saved base is never touched
    frozen = _freeze_batch_norm(net) if config.freeze_batch_norm else 0
    observers = ([RunLogger(run, config.epochs)] if run else []) + ([progress] if progress else [])
    if run:
        run.append_event("plan", epochs=config.epochs, train_size=len(plan_.train.y), params=int(net.count_params()),
                         split=plan_.split_info())
    fit_t0 = time.time()
    fit = _fit(net, plan_, cfg, splits, observers, base)
    train_seconds = time.time() - fit_t0
    after = loading.LoadedModel(name, {}, net, "keras")
    held_after = after.predict_proba(plan_.heldout.x)
    fields_ = model_card.evaluation_fields(after, splits)
    if run:
        run.append_event("test", test_accuracy=fields_["test_accuracy"], test_loss=fields_["test_loss"])
        np.savez_compressed(run.path / HELDOUT_FILE, x=plan_.heldout.x, y=plan_.heldout.y,
                            files=np.asarray(plan_.heldout.files), before=held_before, after=held_after)
    report = measure(plan_, held_before, held_after, mnist_before["accuracy"], fields_["test_accuracy"])
    history = fit["history"]
    report.update(base=config.base, base_test_accuracy=base_card.get("test_accuracy"), config=config.to_dict(),
                  collection=_describe(plan_.collection), split=plan_.split_info(),
                  holdout_collection=_describe(plan_.holdout_collection) if plan_.holdout_collection else None,
                  epochs_trained=len(history.get("loss", [])), best_epoch=fit.get("best_epoch"),
                  replay_n=fit["replay_n"], frozen_batch_norm_layers=frozen, seconds=round(time.time() - t0, 3))
    card = {"name": name, "kind": base_card.get("kind"), "backend": "keras",
            "description": f"{base_card.get('description', '')} Fine-tuned from '{config.base}' on "
                           f"{report['split']['adapt_n']} handwriting image(s) with MNIST replay.".strip(),
            "config": cfg.to_dict(), **fields_, "history": history, "epochs_trained": report["epochs_trained"],
            "params": int(net.count_params()), "train_seconds": round(train_seconds, 3),
            "train_size": fit["train_size"], "precision": "float32", "versions": versions(),
            "run_id": run.id if run else None, "finetune": report}
    store.save(name, net, card, store_root)
    if run:
        run.append_event("saved", name=name)
    return card


def _describe(samples: Samples) -> dict:
    return {"source": samples.source, "sha256": samples.sha256, "files": samples.n_files,
            "labelled_used": int(len(samples.y)), "skipped": len(samples.skipped),
            "skipped_examples": samples.skipped[:20]}


def measure(plan_: Plan, held_before: np.ndarray, held_after: np.ndarray, mnist_before: float,
            mnist_after: float) -> dict:
    """Before/after on the held-out part (accuracy, interval, per class, changed images) and on MNIST."""
    from mnist_core.analysis import evaluate

    y = plan_.heldout.y
    before, after = evaluate.summarize(held_before, y, 0), evaluate.summarize(held_after, y, 0)
    pb, pa = held_before.argmax(1), held_after.argmax(1)
    changed = [{"file": plan_.heldout.files[i], "label": int(y[i]), "before": int(pb[i]), "after": int(pa[i]),
                "change": "fixed" if pa[i] == y[i] else "broken" if pb[i] == y[i] else "still wrong"}
               for i in np.flatnonzero(pb != pa)][:CHANGED_LIMIT]
    per_class = {int(k): {"n": int((y == k).sum()), "before": float((pb[y == k] == k).mean()),
                          "after": float((pa[y == k] == k).mean())} for k in np.unique(y)}
    drop = mnist_before - mnist_after
    mnist_held = drop <= MNIST_LIMIT + 1e-9
    improved = after["accuracy"] > before["accuracy"]
    note = (f"held-out accuracy {before['accuracy']:.2%} -> {after['accuracy']:.2%} on {len(y)} image(s) never "
            f"trained on; MNIST test {mnist_before:.2%} -> {mnist_after:.2%} "
            f"({-drop * 100:+.2f} points; the limit is -{MNIST_LIMIT * 100:.1f})")
    if not mnist_held:
        note += f": NOT a success, MNIST fell {drop * 100:.2f} points, {(drop - MNIST_LIMIT) * 100:.2f} past the limit"
    elif not improved:
        note += ": NOT a success, the held-out accuracy did not rise"
    else:
        note += f": MNIST held, {(MNIST_LIMIT - max(drop, 0)) * 100:.2f} points inside the limit"
    return {"heldout_n": int(len(y)), "heldout_before": before["accuracy"], "heldout_after": after["accuracy"],
            "heldout_ci95_before": list(before["ci95"]), "heldout_ci95_after": list(after["ci95"]),
            "heldout_per_class": per_class, "changed": changed,
            "fixed": sum(c["change"] == "fixed" for c in changed),
            "broken": sum(c["change"] == "broken" for c in changed),
            "mnist_before": float(mnist_before), "mnist_after": float(mnist_after),
            "mnist_change": float(-drop), "mnist_limit": MNIST_LIMIT, "mnist_held": bool(mnist_held),
            "success": bool(mnist_held and improved), "note": note}


def summary(card: dict) -> dict:
    """The CLI's --json object (accuracies as fractions)."""
    ft = card["finetune"]
    return {"name": card["name"], "base": ft["base"], "heldout_before": ft["heldout_before"],
            "heldout_after": ft["heldout_after"], "heldout_n": ft["heldout_n"],
            "heldout_ci95_before": ft["heldout_ci95_before"], "heldout_ci95_after": ft["heldout_ci95_after"],
            "mnist_before": ft["mnist_before"], "mnist_after": ft["mnist_after"], "mnist_held": ft["mnist_held"],
            "success": ft["success"], "adapt_n": ft["split"]["adapt_n"], "split": ft["split"]["method"],
            "epochs_trained": ft["epochs_trained"], "fixed": ft["fixed"], "broken": ft["broken"],
            "seconds": ft["seconds"], "note": ft["note"], "run_id": card.get("run_id")}


# -- the run directory ----------------------------------------------------------------------

def create_run(config: FinetuneConfig, root: Path | None = None, owner: int | None = None) -> RunDir:
    """A queued run directory owned by `owner` (a waiting process: the queue never spawns `train` for it)."""
    access.require_editor(f"fine-tune model '{config.base}'")
    config.validate()
    base_card = check_base(config.base)
    name = config.name or default_name(config.base)
    config = replace(config, name=name)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-finetune-{config.base[:24]}-{secrets.token_hex(2)}"
    run = RunDir.create(_train_config(base_card, config, name), root, run_id, pid=owner or os.getpid(), kind=KIND)
    config.save(run.path / FINETUNE_FILE)
    return run


def is_finetune(run: RunDir) -> bool:
    return (run.path / FINETUNE_FILE).is_file()


def load_config(run: RunDir) -> FinetuneConfig:
    return FinetuneConfig.load(run.path / FINETUNE_FILE)


def list_finetunes(root: Path | None = None) -> list[RunDir]:
    return [r for r in list_runs(root) if is_finetune(r)]


_children: list[subprocess.Popen] = []


def launch(config: FinetuneConfig, root: Path | None = None, uploads: list | None = None,
           holdout_uploads: list | None = None) -> RunDir:
    """Queue a fine-tuning run as its own process (`finetune --run-dir`) and return at once.

    uploads/holdout_uploads ([(name, bytes)]) are written into the run directory (save_uploads) and used
    instead of the config's paths. The process waits for its turn in the run queue.
    """
    from mnist_core.training import queue

    root = Path(root or paths.runs_dir())
    queue.max_runs()  # an unusable setting fails before anything is written
    run = create_run(config, root)
    config = load_config(run)
    if uploads is not None:
        config.images = str(save_uploads(run.path / "collection", uploads))
    if holdout_uploads is not None:
        config.holdout_images = str(save_uploads(run.path / "holdout", holdout_uploads))
    config.save(run.path / FINETUNE_FILE)
    log = open(run.path / "log.txt", "ab")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    argv = [sys.executable, "-m", "mnist_core", "finetune", "--run-dir", str(run.path), "--quiet"]
    with queue.locked(root):  # the child records itself only after we have
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=str(paths.REPO_ROOT), env=env, start_new_session=True)
        finally:
            log.close()
        run.write_status("queued", pid=proc.pid)
    _children.append(proc)
    _children[:] = [p for p in _children if p.poll() is None]
    return run


def save_uploads(folder: Path, files: list) -> Path:
    """Uploaded (name, bytes) kept as numbered files plus a manifest of their names (never written by name).

    read_samples reads the manifest back as the same [(name, bytes)] the page had, ZIPs among them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, (name, data) in enumerate(files):
        (folder / f"{i:05d}.bin").write_bytes(bytes(data))
        names.append(str(name))
    manifest = folder / UPLOADS_MANIFEST
    manifest.write_text(json.dumps(names))
    return manifest


def _uploads(manifest: Path) -> list:
    names = json.loads(manifest.read_text())
    return [(name, (manifest.parent / f"{i:05d}.bin").read_bytes()) for i, name in enumerate(names)]


def heldout_arrays(run: RunDir) -> dict | None:
    """The held-out inputs, labels, files and both models' probabilities a finished run kept."""
    try:
        with np.load(run.path / HELDOUT_FILE, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None
