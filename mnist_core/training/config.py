"""TrainConfig: every knob of one training run, saved beside every model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from mnist_core.errors import UserError
from mnist_core.tasks import TASKS, class_names  # noqa: F401 - class_names: the config's public API too

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
SCHEDULES = ("constant", "onecycle", "cosine", "exponential")
PRECISIONS = ("float32", "mixed_bfloat16")  # bfloat16 compute with float32 weights; saved models are float32


class ConfigError(UserError, ValueError):
    """A TrainConfig value is out of range; the message says what is accepted."""


@dataclass
class TrainConfig:
    model: str = "cnn"
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "constant"
    dropout: float | None = None  # None: the zoo model's own default
    batch_norm: bool = False
    augment: bool = False
    rotation_deg: float = 10.0
    shift: float = 0.1
    zoom: float = 0.1
    train_subset: int | None = None
    validation: int = 5000
    seed: int = 0
    name: str | None = None
    weight_decay: float = 0.0
    beta_1: float = 0.9  # Adam/AdamW first-moment decay
    elastic_alpha: float = 0.0  # elastic distortion strength in pixels (0: off); needs augment
    elastic_sigma: float = 4.0  # smoothness of the elastic field in pixels
    ema_momentum: float = 0.0  # keep an exponential moving average of the weights and save it (0: off)
    precision: str = "float32"
    steps_per_execution: int = 1  # batches per Keras step call: less per-step overhead, coarser events
    label_smoothing: float = 0.0  # Keras models: one-hot targets smoothed by this much (0: sparse labels, as before)
    extra: dict = field(default_factory=dict)  # model-specific knobs (e.g. widths)
    task: str = "digits"  # a config saved before tasks existed reads as digits
    init_from: str | None = None  # start from this saved model's weights (same architecture) instead of at random
    scan_styles: int = 0  # MNIST digits re-captured as scanned-form cells, added to training (data/capture.py)
    real_sources: list = field(default_factory=list)  # real development sources mixed in (data/mix.py), people held out
    keep_model: bool = True  # False: an experiment that leaves its curves and test figures in its run, no model

    def validate(self) -> "TrainConfig":
        from mnist_core.models import zoo  # local: zoo imports config

        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ConfigError(msg)

        need(self.task in TASKS, f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        need(self.model in zoo.MODELS, f"unknown model '{self.model}'; choose one of {', '.join(zoo.MODELS)}")
        need(isinstance(self.epochs, int) and 1 <= self.epochs <= 1000, f"epochs must be an integer 1-1000, got {self.epochs!r}")
        need(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 60000, f"batch size must be an integer 1-60000, got {self.batch_size!r}")
        need(0 < float(self.lr) <= 10, f"learning rate must be in (0, 10], got {self.lr!r}")
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        need(self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        need(self.dropout is None or 0 <= float(self.dropout) < 1, f"dropout must be in [0, 1), got {self.dropout!r}")
        need(self.train_subset is None or (isinstance(self.train_subset, int) and self.train_subset >= 10),
             f"train subset must be at least 10 images, got {self.train_subset!r}")
        need(isinstance(self.validation, int) and 0 <= self.validation <= 30000,
             f"validation must be an integer 0-30000 (0: train on all 60,000 images), got {self.validation!r}")
        need(0 <= self.rotation_deg <= 180 and 0 <= self.shift < 1 and 0 <= self.zoom < 1,
             "augmentation ranges: rotation 0-180 degrees, shift and zoom in [0, 1)")
        need(0 < float(self.beta_1) < 1, f"beta_1 must be in (0, 1), got {self.beta_1!r}")
        need(0 <= float(self.elastic_alpha) <= 100 and 0.5 <= float(self.elastic_sigma) <= 20,
             "elastic distortion: alpha 0-100 pixels (0 turns it off), sigma 0.5-20 pixels")
        need(float(self.ema_momentum) == 0 or 0.9 <= float(self.ema_momentum) < 1,
             f"weight averaging (EMA) momentum must be 0 (off) or in [0.9, 1), got {self.ema_momentum!r}")
        need(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        need(isinstance(self.steps_per_execution, int) and 1 <= self.steps_per_execution <= 1000,
             f"steps per execution must be an integer 1-1000, got {self.steps_per_execution!r}")
        need(0 <= float(self.label_smoothing) < 1, f"label smoothing must be in [0, 1), got {self.label_smoothing!r}")
        need(isinstance(self.seed, int) and self.seed >= 0, f"seed must be a non-negative integer, got {self.seed!r}")
        need(isinstance(self.scan_styles, int) and 0 <= self.scan_styles <= 200000,
             f"scan styles must be an integer 0-200000 (images added), got {self.scan_styles!r}")
        from mnist_core.data.mix import REAL_SOURCES  # local: data.mix loads the shared data only when used

        allowed = REAL_SOURCES.get(self.task, ())
        unknown = [s for s in self.real_sources if s not in allowed]
        need(isinstance(self.real_sources, list) and not unknown,
             f"real sources for the {self.task} task must be among {', '.join(allowed)}, got {unknown}")
        need(self.task == "digits" or not self.scan_styles, "scan styles are for the digits task")
        if self.name is not None:
            from mnist_core.models.store import InvalidName, validate_name

            try:
                validate_name(self.name)
            except InvalidName as exc:
                raise ConfigError(str(exc)) from None
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"a config is a JSON object of settings, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config keys {unknown}; known keys are {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        return cls.from_dict(json.loads(text))

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        return cls.from_json(Path(path).read_text())

    @classmethod
    def for_model(cls, model: str, **overrides) -> "TrainConfig":
        """The zoo model's recommended recipe, with explicit overrides on top."""
        from mnist_core.models import zoo

        if model not in zoo.MODELS:
            raise ConfigError(f"unknown model '{model}'; choose one of {', '.join(zoo.MODELS)}")
        values = {**zoo.MODELS[model].recipe, **{k: v for k, v in overrides.items() if v is not None}}
        return cls(model=model, **values)
