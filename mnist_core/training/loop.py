"""train(config, run_dir): fit a zoo model, log events, test it, save it.

Keras models train through model.fit with a callback (training/callback.py);
the NumPy nets run their own loop. Both report every batch and epoch to the
same observers (training/observers.py): the run directory's logger and
whatever the caller passes as `progress`.
"""

from __future__ import annotations

import math
import os
import platform
import time

import numpy as np

from mnist_core import access
from mnist_core.data import mnist as data_mod
from mnist_core.analysis import evaluate
from mnist_core.models import card as model_card, store, zoo
from mnist_core.models.loading import LoadedModel
from mnist_core.tasks import n_classes
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.observers import CANCEL, KEEP, Broadcast, Progress, RunLogger
from mnist_core.training.rundir import Cancelled, RunDir, lifecycle
from mnist_core.training.schedules import lr_at, lr_schedule

__all__ = ["Cancelled", "train"]  # Cancelled lives in rundir (the lifecycle catches it); callers find it here too


def _seed_everything(seed: int, deterministic: bool = True) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        # Without this, augmentation's random ops in the parallel tf.data map make
        # two runs with one seed differ; bench/train_speed.py --variants measures its cost.
        tf.config.experimental.enable_op_determinism()


def _subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int):
    if n is None or n >= len(x):
        return x, y
    idx = np.random.default_rng(seed).permutation(len(x))[:n]
    return x[idx], y[idx]


def _optimizer(config: TrainConfig, total_steps: int):
    import keras

    lr = lr_schedule(config, total_steps)
    kwargs = {"weight_decay": config.weight_decay} if config.weight_decay else {}
    if config.ema_momentum:  # fit swaps the averaged weights in when training ends
        kwargs.update(use_ema=True, ema_momentum=float(config.ema_momentum))
    beta_1 = float(config.beta_1)
    return {"adam": lambda: keras.optimizers.Adam(lr, beta_1=beta_1, **kwargs),
            "adamw": lambda: keras.optimizers.AdamW(lr, beta_1=beta_1, **{**kwargs, "weight_decay": config.weight_decay or 1e-4}),
            "rmsprop": lambda: keras.optimizers.RMSprop(lr, **kwargs),
            "sgd": lambda: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, **kwargs)}[config.optimizer]()


def _dataset(x, y, config: TrainConfig):
    """Shuffled batches gathered from in-memory tensors, augmented when asked.

    Shuffling indices and gathering whole batches costs one op per batch
    instead of one per image. Augmentation seeds come from a seeded random
    stream that changes every epoch, so parallel maps stay reproducible.
    """
    import tensorflow as tf

    x, y = tf.constant(x), tf.constant(y)
    ds = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
    if config.label_smoothing:  # one-hot targets (Keras 3's sparse cross-entropy cannot smooth)
        y = tf.one_hot(y, n_classes(config))
    ds = ds.batch(config.batch_size).map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)))
    if config.augment:
        from mnist_core.data.augment import augment_batch

        steps = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip(ds, steps).map(
            lambda xy, r: (augment_batch(xy[0], tf.stack([r, config.seed]), config), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE)
    # No autotuning: its optimiser thread must finish before fit can free the iterator, and 1 run in 3
    # here waited 0.8-2 s for it after the last epoch. Two batches ahead keep the step fed (0.5 ms a batch).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


def _prebuild(model, x, y) -> None:
    """Create optimizer and metric variables before fit traces its train step.

    Otherwise TensorFlow traces the step twice (once to create variables):
    measured here, the first batch of `fast` took 6.7 s instead of 2.1 s.
    """
    import tensorflow as tf

    try:  # Keras 3's own pre-build (private; fit uses it when a distribution strategy is set)
        model._symbolic_build(data_batch=(tf.constant(x), tf.constant(y), None))
    except (AttributeError, TypeError):  # another Keras: at least the optimizer (about half the saving)
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)


CALLS_PER_EPOCH = 8  # at least this many progress reports (and chances to stop) an epoch


def steps_per_call(wanted: int, steps: int) -> int:
    """Batches per Keras step call: the recipe's, fewer on a short epoch.

    Keras calls back (and can stop) only between step calls: `fast` runs 4 batches a call, so a
    1,000-image epoch (4 batches) was one call, and Cancel or Stop and keep waited for the epoch's end.
    Full-size runs (215 batches an epoch for `fast`) keep the recipe's value and its speed.
    """
    return max(1, min(int(wanted), steps // CALLS_PER_EPOCH))


def _loss(config: TrainConfig):
    """Sparse cross-entropy, or with label smoothing the categorical one on one-hot targets."""
    if not config.label_smoothing:
        return "sparse_categorical_crossentropy"
    import keras

    return keras.losses.CategoricalCrossentropy(label_smoothing=float(config.label_smoothing))


def _targets(y, config: TrainConfig):
    """Labels as the loss wants them: one-hot rows when label smoothing is on."""
    return np.eye(n_classes(config), dtype=np.float32)[y] if config.label_smoothing else y


def _fit_keras(model, config: TrainConfig, splits, broadcast: Broadcast) -> dict:
    from mnist_core.training.callback import ProgressCallback, Validation

    x, y = _subset(splits.x_train, splits.y_train, config.train_subset, config.seed)
    steps = math.ceil(len(x) / config.batch_size)
    if config.extra.get("whiten") and not config.init_from:  # a model to start from brings its own stem
        from mnist_core.models.whitening import whiten_stem

        whiten_stem(model, x, config)
    loss = _loss(config)  # one object: fit trains on it and Validation reports it
    model.compile(optimizer=_optimizer(config, steps * config.epochs),
                  loss=loss, metrics=["accuracy"],
                  steps_per_execution=steps_per_call(config.steps_per_execution, steps),
                  jit_compile=config.extra.get("jit_compile", "auto"))  # auto: no XLA on a CPU-only machine
    _prebuild(model, x[:config.batch_size], _targets(y[:config.batch_size], config))
    callback = ProgressCallback(broadcast)
    validation = Validation(splits.x_val, _targets(splits.y_val, config), loss)  # before the progress
    history = model.fit(_dataset(x, y, config), epochs=config.epochs, verbose=0,  # tf.data shuffles
                        callbacks=[validation, callback], shuffle=False)
    if callback.cancelled:
        raise Cancelled()
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _fit_numpy(net, config: TrainConfig, splits, broadcast: Broadcast) -> dict:
    x, y = _subset(splits.x_train, splits.y_train, config.train_subset, config.seed)
    x = x.reshape(len(x), -1)
    steps = math.ceil(len(x) / config.batch_size)
    rng = np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {}
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(len(x))
        losses, accs = [], []
        for step in range(steps):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            lr = lr_at(config, (epoch - 1) * steps + step, steps * config.epochs)
            loss, acc = net.train_step(x[idx], y[idx], lr)
            losses.append(loss)
            accs.append(acc)
            verdict = broadcast.batch(epoch, step + 1, loss, acc)
            if verdict == CANCEL:
                raise Cancelled()
            if verdict == KEEP:
                break
        logs = {"loss": float(np.mean(losses)), "accuracy": float(np.mean(accs)), "lr": lr}
        if len(splits.x_val):
            val = evaluate.summarize(net.predict_proba(splits.x_val), splits.y_val, 0)
            logs.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        if broadcast.epoch(epoch, logs, net) or broadcast.kept_at:
            break
    return history


BF16_ENV = "MNIST_STUDIO_BF16"  # 0: never use bfloat16 (as on a CPU without it); 1: always (emulated there)
_BF16_VALUES = {"0": False, "off": False, "no": False, "false": False, "1": True, "on": True, "yes": True,
                "true": True}


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (x86 AVX512_BF16 / AMX, Arm BF16).

    Without it TensorFlow emulates bfloat16 and mixed precision gets slower, not faster.
    MNIST_STUDIO_BF16=0 answers False on any CPU and =1 True (unset or `auto`: the CPU's
    flags decide), so both paths can be run on one machine (README, "Tests on any CPU").
    """
    raw = os.environ.get(BF16_ENV, "").strip().lower()
    if raw and raw != "auto":
        if raw not in _BF16_VALUES:
            raise ConfigError(f"{BF16_ENV}={raw!r}: give 0 (never bfloat16), 1 (always) or auto (the CPU decides)")
        return _BF16_VALUES[raw]
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(f.read().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def effective_precision(config: TrainConfig) -> str:
    """The precision a run really uses: mixed_bfloat16 only where the CPU has native bfloat16."""
    if config.precision == "mixed_bfloat16" and not native_bfloat16():
        return "float32"
    return config.precision


def _build(config: TrainConfig, precision: str | None = None):
    """zoo.build under a dtype policy (Keras layers keep the policy they were built with)."""
    precision = precision or config.precision
    if precision == "float32" or zoo.MODELS[config.model].backend != "keras":
        return zoo.build(config)
    import keras

    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(precision)
    try:
        return zoo.build(config)
    finally:
        keras.config.set_dtype_policy(previous)


def _as_float32(net, config: TrainConfig, precision: str):
    """A fresh float32 twin of a trained net (a mixed-precision net's variables are float32 already).

    Saved models stay float32 so they load and predict at full speed on any
    CPU, including ones without native bfloat16.
    """
    if zoo.MODELS[config.model].backend != "keras":
        return net
    # Always a twin, in float32 too: the trained net carries its optimizer's state (Adam's moments, the
    # EMA copies), which model.save would ship: 5.2 MB for `best` against 1.4 MB for its weights alone.
    twin = zoo.build(config)
    twin.set_weights(net.get_weights())
    return twin


def versions() -> dict:
    out = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import keras
        import tensorflow as tf

        out.update(tensorflow=tf.__version__, keras=keras.__version__)
    except ImportError:
        pass
    return out


def default_name(config: TrainConfig) -> str:
    return config.name or f"{config.model}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(config: TrainConfig, run: RunDir | None = None, splits=None, store_root=None,
          progress: Progress | None = None, save: bool = True) -> dict:
    """Train, evaluate on the test set, save; returns the model card.

    With a run directory, the run's lifecycle records queued -> running -> completed | cancelled | failed
    and why. Exceptions other than a cancel propagate.
    """
    config.validate()
    name = default_name(config)
    save = save and config.keep_model
    if save:  # fail before the minutes of training, not at the save
        access.require_editor(f"train and save model '{name}'")
    with lifecycle(run, name, {"config": config.to_dict()}) as life:
        card = _train(config, name, run, splits, store_root, progress, save)
        early = {"stopped_early": card["stopped_early"]} if card.get("stopped_early") else {}
        life.end("completed", {"test_accuracy": card["test_accuracy"], "name": name, "saved": save, **early},
                 progress=1.0, test_accuracy=card["test_accuracy"], **early)
    return card


def discard(run: RunDir, store_root=None) -> str:
    """Delete the model a finished run saved, when the user wants no experiment listed; the run keeps its
    curves and figures. Refused for a model that is no longer this run's (replaced since) or is shipped."""
    saved = [e.get("name") for e in run.events("saved")]
    if not saved or run.events("discarded"):
        raise store.StoreError(f"run {run.id} has no saved model to discard")
    name = saved[-1]
    if name in store.protected_names():
        raise store.StoreError(f"'{name}' is a shipped model; it changes only through promote")
    card = store.read_card(name, store_root)
    if card.get("run_id") != run.id:
        raise store.StoreError(f"model '{name}' was saved again since, by another run; delete it on the Models page")
    store.delete(name, store_root)
    run.append_event("discarded", name=name)
    return name


def load_task_splits(config: TrainConfig):
    """The data a config's task trains on: MNIST's splits, or the generated shapes' fixed splits."""
    if config.task == "shapes":
        from mnist_core.data import shapes

        return shapes.load_splits()
    return data_mod.load_splits(validation=config.validation)


def task_fields(config: TrainConfig, splits) -> dict:
    """What a card says about its task: the class names, and for shapes the generator that made the data."""
    from mnist_core.tasks import class_names

    fields = {"task": config.task, "class_names": list(class_names(config.task))}
    if config.task == "shapes":
        fields["shapes_generator"] = {"version": getattr(splits, "generator_version", None),
                                      "sha256": splits.sha256}
    return fields


def _mixed_in(config: TrainConfig, splits) -> tuple:
    """MNIST plus what the config mixes in, and the card's list of every source learned from ([] for MNIST alone)."""
    if not (config.scan_styles or config.real_sources):
        return splits, []
    from mnist_core.data import mix

    return mix.extend(splits, config.scan_styles, config.real_sources, config.seed)


def _start_from(net, name: str) -> None:
    """Copy a saved model's weights into a freshly built net of the same architecture (fine-tuning)."""
    from mnist_core.models import loading

    base = loading.load(name)
    try:
        net.set_weights(base.net.get_weights())
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"cannot start from '{name}': its weights do not fit a '{net.name}' network ({exc})") from None


def _stage(run: RunDir | None, stage: str | None) -> None:
    """Say what the run is doing between its batches (the dashboard shows it): where the waiting goes."""
    if run:
        run.heartbeat(stage=stage)


def _train(config, name, run, splits, store_root, progress, save) -> dict:
    spec = zoo.MODELS[config.model]
    if splits is None:
        _stage(run, "loading the data")
        splits = load_task_splits(config)
    splits, data_sources = _mixed_in(config, splits)
    if spec.backend == "keras":
        _stage(run, "importing TensorFlow")  # about 3 s on an idle machine, the largest part of preparing
        _seed_everything(config.seed, bool(config.extra.get("deterministic", True)))
    _stage(run, "building the model")
    precision = effective_precision(config)
    net = _build(config, precision)
    if config.init_from:
        _start_from(net, config.init_from)
    n_train = min(len(splits.x_train), config.train_subset or len(splits.x_train))
    steps = math.ceil(n_train / config.batch_size)
    observers = ([RunLogger(run, config.epochs)] if run else []) + ([progress] if progress else [])
    broadcast = Broadcast(config.epochs, steps, observers)
    if run:
        run.append_event("plan", epochs=config.epochs, steps_per_epoch=steps, train_size=n_train,
                         params=int(net.count_params()))
    _stage(run, "compiling the training step" if spec.backend == "keras" else None)
    t0 = time.time()
    fit = _fit_keras if spec.backend == "keras" else _fit_numpy
    history = fit(net, config, splits, broadcast)
    train_seconds = time.time() - t0
    _stage(run, "testing on the test set and saving")
    net = _as_float32(net, config, precision)
    fields = model_card.evaluation_fields(LoadedModel(name, {}, net, spec.backend), splits)
    if run:
        run.append_event("test", test_accuracy=fields["test_accuracy"], test_loss=fields["test_loss"])
    card = {
        "name": name, "kind": config.model, "backend": spec.backend, "description": spec.description,
        "config": config.to_dict(), **fields,
        "history": history, "epochs_trained": len(next(iter(history.values()), [])),
        **broadcast.stopped_early(),
        "params": int(net.count_params()), "train_seconds": round(train_seconds, 3),
        "train_size": n_train, "precision": precision, "versions": versions(), "run_id": run.id if run else None,
        **task_fields(config, splits), **({"data_sources": data_sources} if data_sources else {}),
    }
    if save:
        store.save(name, net, card, store_root)
        if run:
            run.append_event("saved", name=name)
    return card
