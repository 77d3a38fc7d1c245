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
accepted; nothing is written then. Reading and splitting a collection live in
finetune_data.py, the config and the plan in finetune_plan.py, the run directory and launching in
finetune_runs.py.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mnist_core import access
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.finetune_data import FinetuneError, Samples
from mnist_core.training.finetune_plan import FinetuneConfig, Plan, plan  # callers find them here too
from mnist_core.training.rundir import Cancelled, RunDir, lifecycle

HELDOUT_FILE = "heldout.npz"
MNIST_LIMIT = 0.001  # the MNIST test accuracy may fall by at most 0.1 points
CHANGED_LIMIT = 500  # held-out images listed in the card as fixed or broken


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
        what = {"numpy": "a NumPy net", "onnx": "an imported ONNX model (its runtime only predicts)",
                "litert": "an imported LiteRT model (its runtime only predicts)"}.get(card.get("backend"),
                                                                                     f"a {card.get('backend')} model")
        raise FinetuneError(f"model '{name}' is {what}; fine-tuning needs a Keras model"
                            + (f": {', '.join(keras_models)}" if keras_models else ""))
    return card


def default_name(base: str) -> str:
    return f"{base[:40]}-ft-{time.strftime('%Y%m%d-%H%M%S')}"


def base_train_config(base_card: dict, config: FinetuneConfig, name: str) -> TrainConfig:
    """The base's recipe with fine-tuning's epochs, rate and batches (its augmentation ranges kept)."""
    try:
        base = TrainConfig.from_dict(base_card.get("config") or {})
    except ConfigError:  # a card without a readable recipe (an ensemble's, an import's)
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

    Every input problem raises FinetuneError (or a StoreError for the base) before any training and before
    anything is saved; with a run directory, the run ends failed and says why.
    """
    from mnist_core.models import store

    config.validate()
    name = config.name or default_name(config.base)
    access.require_editor(f"fine-tune model '{config.base}' into '{name}'")
    # In the lifecycle: a problem with the base, the name or the images ends the run as failed, with the reason.
    with lifecycle(run, name, {"config": config.to_dict()}) as life:
        base_card = check_base(config.base, store_root)
        try:
            store.check_new_name(name, root=store_root)  # the store's one rule for new names; never replaces
        except store.StoreError as exc:
            raise FinetuneError(str(exc)) from None
        the_plan = prepared or plan(config, images, holdout_images)
        card = _finetune(the_plan, base_card, name, run, progress, splits, store_root)
        ft = card["finetune"]
        life.end("completed", {"test_accuracy": card["test_accuracy"], "name": name,
                               "heldout_before": ft["heldout_before"], "heldout_after": ft["heldout_after"]},
                 progress=1.0, test_accuracy=card["test_accuracy"], heldout_before=ft["heldout_before"],
                 heldout_after=ft["heldout_after"], success=ft["success"])
    return card


def _replay(splits, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(seed + 2).choice(len(splits.x_train), size=min(n, len(splits.x_train)),
                                                 replace=False)
    return splits.x_train[idx], splits.y_train[idx].astype(np.int64)


def _repeats(n_adapt: int, n_replay: int, share: float) -> int:
    """How many times each adaptation image appears per epoch so that they make up `share` of it (at least once)."""
    if n_adapt == 0 or share <= 0:
        return 1
    return max(1, math.ceil(share * n_replay / ((1 - share) * n_adapt)))


def _fit(net, plan_: Plan, cfg: TrainConfig, splits, broadcast_observers, base=None) -> dict:
    import keras

    from mnist_core.training.callback import ProgressCallback, Validation
    from mnist_core.training.loop import _dataset
    from mnist_core.training.observers import Broadcast

    config = plan_.config
    n_replay = int(round(config.replay * len(plan_.train.y)))
    rx, ry = _replay(splits, max(n_replay, int(config.min_replay)) if config.replay else 0, config.seed)
    repeats = _repeats(len(plan_.train.y), len(rx), float(config.adapt_share))
    x = np.concatenate([np.repeat(plan_.train.x, repeats, axis=0), rx]).astype(np.float32)
    # Replay targets are the base's own probabilities (distillation): they hold its answers on MNIST,
    # margins included, where hard labels only hold the argmax.
    replay_targets = base.predict_proba(rx) if config.distill and base is not None else np.eye(10)[ry]
    y = np.concatenate([np.repeat(np.eye(10)[plan_.train.y], repeats, axis=0), replay_targets]).astype(np.float32)
    net.compile(optimizer=keras.optimizers.Adam(float(config.lr)), loss="categorical_crossentropy",
                metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    broadcast = Broadcast(config.epochs, math.ceil(len(x) / config.batch_size), broadcast_observers)
    callback = ProgressCallback(broadcast)
    callbacks = [callback]
    has_val = len(plan_.val.y) > 0
    if has_val:  # the adaptation part's own slice decides; the held-out part and MNIST's test set never do
        # The loop's validation (no traced test step), first: the progress and early stopping read its figures.
        val_targets = np.eye(10, dtype=np.float32)[plan_.val.y]
        callbacks = [Validation(plan_.val.x, val_targets, "categorical_crossentropy"), callback,  # x: float32
                     keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                                   restore_best_weights=True)]
    history = net.fit(_dataset(x, y, cfg), epochs=config.epochs, verbose=0, shuffle=False, callbacks=callbacks)
    if callback.cancelled:
        raise Cancelled()
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    out = {"history": hist, "replay_n": len(rx), "train_size": len(x), "adapt_repeats": repeats}
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
    cfg = base_train_config(base_card, config, name)
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
                  replay_n=fit["replay_n"], adapt_repeats=fit["adapt_repeats"], frozen_batch_norm_layers=frozen,
                  seconds=round(time.time() - t0, 3))
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
        if before["accuracy"] >= 1.0:
            note += " (it could not: the base model already read every held-out image right)"
    else:
        note += f": MNIST held, {(MNIST_LIMIT - max(drop, 0)) * 100:.2f} points inside the limit"
    return {"heldout_n": int(len(y)), "heldout_before": before["accuracy"], "heldout_after": after["accuracy"],
            "heldout_ci95_before": list(before["ci95"]), "heldout_ci95_after": list(after["ci95"]),
            "heldout_per_class": per_class, "changed": changed,
            "fixed": sum(c["change"] == "fixed" for c in changed),
            "broken": sum(c["change"] == "broken" for c in changed),
            "mnist_before": float(mnist_before), "mnist_after": float(mnist_after),
            "mnist_change": float(-drop), "mnist_limit": MNIST_LIMIT, "mnist_held": bool(mnist_held),
            "success": bool(mnist_held and improved), "note": note,
            "advice": nothing_to_show(before["accuracy"], len(y))}


def nothing_to_show(heldout_before: float, n: int) -> str | None:
    """What to do when the held-out part held none of the base model's mistakes, so no gain could show there."""
    if heldout_before < 1.0:
        return None
    return (f"The held-out part ({n} image{'s' if n != 1 else ''}) held none of the base model's mistakes: it "
            "read every one right before teaching, so no gain could show there. Hold out a larger part, or "
            "teach with more images (more of the kind it gets wrong).")
