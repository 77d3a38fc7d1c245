"""Sweeps: many training runs of one recipe over a search space, run by Ray Tune.

This module is the Ray-free half: SweepConfig, the search-space syntax and the
sweep's run directory. Reading a sweep back for the dashboard and the CLI
lives in training/sweep_results.py, the driver that talks to Ray in
training/sweep_ray.py.

A sweep is a run directory like a training run (training/rundir.py):
config.json holds the base TrainConfig (so `runs` and the dashboard read it
like any run), sweep.json the SweepConfig, status.json has kind "sweep",
and events.jsonl gets a line per trial report and per trial state change.

Search-space syntax, one knob per `--param`:
    lr=0.01              fixed value
    batch_size=128,256   a list (grid: every value; random/tpe: a choice)
    seed=0-7             an integer range, both ends included (integer knobs)
    dropout=0:0.5        a uniform range (integer knobs: an integer range)
    lr=log:1e-3:3e-2     a log-uniform range
Any TrainConfig field is a knob, the seed included; `extra.KEY` sets a
model-specific extra (e.g. extra.crop). Trials are ranked by validation
accuracy; the test set never chooses anything.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from mnist_core import access, paths
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.rundir import RunDir, list_runs, spawn

SEARCHES = ("grid", "random", "tpe")
METRIC = "val_accuracy"  # the only metric a sweep optimises: validation, never test
SWEEP_FILE = "sweep.json"
NOT_KNOBS = ("name", "extra")  # the model name is per trial; extras go through extra.KEY
_FIELD_TYPES = {"dropout": float, "train_subset": int}  # fields whose default (None) hides their type


def knob_type(knob: str):
    """The Python type of a knob's values (None for extra.KEY: taken from the literal)."""
    if knob.startswith("extra."):
        return None
    default = TrainConfig.__dataclass_fields__[knob].default
    return _FIELD_TYPES.get(knob) or type(default)


def knobs() -> list[str]:
    return [f.name for f in fields(TrainConfig) if f.name not in NOT_KNOBS]


def _literal(text: str, kind, knob: str):
    """One value of a knob from its text; a clear ConfigError when it does not fit."""
    text = text.strip()
    try:
        if kind is bool:
            if text.lower() in ("true", "1", "yes", "on"):
                return True
            if text.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            return int(text)
        if kind is float:
            return None if text.lower() == "none" and knob == "dropout" else float(text)
        if kind is str:
            return text
        for convert in (int, float):  # extra.KEY: the literal decides
            try:
                return convert(text)
            except ValueError:
                pass
        return {"true": True, "false": False}.get(text.lower(), text)
    except ValueError:
        raise ConfigError(f"{knob}: {text!r} is not a valid {kind.__name__} value") from None


def parse_param(text: str) -> tuple[str, dict]:
    """'lr=log:1e-3:3e-2' -> ('lr', {'kind': 'float', 'low': 0.001, 'high': 0.03, 'log': True})."""
    if "=" not in text:
        raise ConfigError(f"--param {text!r}: write KNOB=VALUE, KNOB=A,B,C, KNOB=LOW:HIGH or KNOB=log:LOW:HIGH")
    knob, spec = (s.strip() for s in text.split("=", 1))
    if knob not in knobs() and not re.fullmatch(r"extra\.[a-z_][a-z0-9_]*", knob):
        raise ConfigError(f"unknown knob {knob!r}; knobs are {', '.join(knobs())} or extra.KEY")
    if not spec:
        raise ConfigError(f"--param {knob}= has no value")
    kind = knob_type(knob)
    log = spec.lower().startswith("log:")
    body = spec[4:] if log else spec
    ranged = re.fullmatch(r"(\d+)-(\d+)", body) if kind is int else None
    if ":" in body or ranged:
        low, high = ranged.groups() if ranged else body.split(":", 1)
        if kind not in (int, float):
            raise ConfigError(f"{knob}: a range needs a numeric knob; give a list instead (A,B,C)")
        return knob, range_spec(knob, _literal(low, kind, knob), _literal(high, kind, knob), log)
    if log:
        raise ConfigError(f"{knob}: write log:LOW:HIGH for a log-uniform range")
    values = [_literal(v, kind, knob) for v in body.split(",")]
    if len(values) == 1:
        return knob, {"kind": "fixed", "value": values[0]}
    return knob, {"kind": "list", "values": values}


def range_spec(knob: str, low, high, log: bool = False) -> dict:
    kind = knob_type(knob)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ConfigError(f"{knob}: a range needs LOW < HIGH, got {low}:{high}")
    if log and low <= 0:
        raise ConfigError(f"{knob}: a log range needs LOW > 0, got {low}")
    return {"kind": "int" if kind is int else "float", "low": low, "high": high, "log": bool(log)}


def spec_values(spec: dict) -> list:
    """The values a spec can take, for checking (ranges: their ends)."""
    if spec["kind"] == "fixed":
        return [spec["value"]]
    if spec["kind"] == "list":
        return list(spec["values"])
    return [spec["low"], spec["high"]]


def grid_size(space: dict) -> int:
    size = 1
    for spec in space.values():
        if spec["kind"] == "list":
            size *= len(spec["values"])
        elif spec["kind"] == "int" and not spec.get("log"):
            size *= spec["high"] - spec["low"] + 1
    return size


def describe_spec(spec: dict) -> str:
    if spec["kind"] == "fixed":
        return str(spec["value"])
    if spec["kind"] == "list":
        return ",".join(str(v) for v in spec["values"])
    return f"{'log:' if spec.get('log') else ''}{spec['low']}:{spec['high']}"


def trial_config(base: TrainConfig, params: dict) -> TrainConfig:
    """The TrainConfig of one trial: the base with the trial's knob values."""
    extra = dict(base.extra)
    plain = {}
    for knob, value in params.items():
        if knob.startswith("extra."):
            extra[knob[6:]] = value
        else:
            plain[knob] = value.item() if hasattr(value, "item") else value  # numpy scalars from searchers
    if "dropout" in plain and plain["dropout"] is not None:
        plain["dropout"] = float(plain["dropout"])
    return replace(base, **plain, extra=extra, name=None)


@dataclass
class SweepConfig:
    base: TrainConfig
    space: dict = field(default_factory=dict)  # knob -> spec (see parse_param)
    search: str = "random"
    metric: str = METRIC
    trials: int = 8  # random/tpe: trials to run; grid: every combination once
    concurrent: int = 1  # trials at once
    asha: bool = False  # stop weak trials early on epochs
    grace_period: int = 1  # ASHA: epochs every trial gets
    reduction_factor: int = 2  # ASHA: keep 1/rf of the trials at each rung
    keep: int = 1  # best trials saved as models
    seed: int = 0  # the searcher's seed
    cpus_per_trial: float = 1.0
    ensemble: str | None = None  # save the kept models' ensemble under this name
    name: str | None = None  # prefix of kept model names (default: the sweep id)
    kind: str = "sweep"  # "sweep" or "seeds" (train --seeds)

    def validate(self) -> "SweepConfig":
        from mnist_core.models.store import validate_name

        def need(ok, msg):
            if not ok:
                raise ConfigError(msg)

        self.base.validate()
        need(self.search in SEARCHES, f"search must be one of {', '.join(SEARCHES)}, got {self.search!r}")
        need(self.metric == METRIC, f"a sweep optimises {METRIC} (validation; the test set never chooses), "
                                    f"got {self.metric!r}")
        need(self.base.validation > 0, "a sweep needs a validation split (validation > 0) to rank trials")
        need(isinstance(self.trials, int) and 1 <= self.trials <= 1000, f"trials must be 1-1000, got {self.trials!r}")
        need(isinstance(self.concurrent, int) and 1 <= self.concurrent <= 256,
             f"concurrent trials must be 1-256, got {self.concurrent!r}")
        need(isinstance(self.keep, int) and 0 <= self.keep <= 100, f"keep must be 0-100, got {self.keep!r}")
        need(isinstance(self.grace_period, int) and self.grace_period >= 1, "ASHA grace period must be at least 1 epoch")
        need(isinstance(self.reduction_factor, int) and self.reduction_factor >= 2, "ASHA reduction factor must be at least 2")
        need(0 < float(self.cpus_per_trial) <= 256, f"cpus per trial must be in (0, 256], got {self.cpus_per_trial!r}")
        need(self.kind in ("sweep", "seeds"), f"kind must be sweep or seeds, got {self.kind!r}")
        if self.ensemble is not None:
            validate_name(self.ensemble)
            need(self.keep >= 2, "an ensemble needs keep of at least 2 models")
        if self.name is not None:
            validate_name(self.name)
        for knob, spec in self.space.items():
            need(knob in knobs() or knob.startswith("extra."), f"unknown knob {knob!r}")
            need(isinstance(spec, dict) and spec.get("kind") in ("fixed", "list", "int", "float"),
                 f"{knob}: a spec needs kind fixed, list, int or float")
            if self.search == "grid":
                need(spec["kind"] != "float" and not spec.get("log"),
                     f"{knob}: grid search needs a list or an integer range; use random or tpe for {describe_spec(spec)}")
            for value in spec_values(spec):
                try:
                    trial_config(self.base, {knob: value}).validate()
                except ConfigError as exc:
                    raise ConfigError(f"{knob}={describe_spec(spec)}: {exc}") from None
        if self.search == "grid":
            need(grid_size(self.space) <= 1000, f"the grid has {grid_size(self.space)} points; at most 1000")
        return self

    def total_trials(self) -> int:
        return grid_size(self.space) if self.search == "grid" else self.trials

    def to_dict(self) -> dict:
        return {**asdict(self), "base": self.base.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "SweepConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown sweep config keys {unknown}; known keys are {sorted(known)}")
        return cls(**{**data, "base": TrainConfig.from_dict(data["base"])})

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> "SweepConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))


def parse_seeds(text: str) -> list[int]:
    """'0-7' -> [0..7]; '1,5,9' -> [1, 5, 9]."""
    text = text.strip()
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    try:
        seeds = list(range(int(m[1]), int(m[2]) + 1)) if m else [int(s) for s in text.split(",")]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: write a range like 0-7 or a list like 1,5,9") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0 or len(seeds) > 100:
        raise ConfigError(f"--seeds {text!r}: give 1-100 distinct non-negative seeds (e.g. 0-7)")
    return seeds


def seeds_sweep(base: TrainConfig, seeds: list[int], ensemble: str | None = None, concurrent: int = 1) -> SweepConfig:
    """One recipe trained with several seeds, every one kept (and averaged when `ensemble` is named)."""
    return SweepConfig(base, {"seed": {"kind": "list", "values": seeds}}, search="grid", trials=len(seeds),
                       concurrent=concurrent, keep=len(seeds), ensemble=ensemble, name=ensemble, kind="seeds")


# -- the sweep's run directory ----------------------------------------------

def new_model_names(sweep: SweepConfig) -> list[str]:
    """The names a sweep may save under that could already be taken: its ensemble's and, when it names a
    prefix, its trials' (<prefix>-t00, -t01, ...; without one they start with the sweep's new id)."""
    trials = [f"{sweep.name}-t{n:02d}" for n in range(sweep.total_trials())] if sweep.name and sweep.keep else []
    return trials + ([sweep.ensemble] if sweep.ensemble else [])


def create(sweep: SweepConfig, root: Path | None = None, store_root: Path | None = None) -> RunDir:
    access.require_editor("start a sweep")  # launch() and the CLI both start here
    sweep.validate()
    from mnist_core.models import store

    for name in new_model_names(sweep):  # the store's name rule, before anything runs
        store.check_new_name(name, root=store_root)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-sweep-{sweep.base.model}-{secrets.token_hex(2)}"
    # admitted and owned at once: the training queue (training/queue.py) must never spawn a training for it
    run = RunDir.create(sweep.base, root, run_id, pid=os.getpid(), admitted=time.time(), kind="sweep",
                        total=sweep.total_trials())
    sweep.save(run.path / SWEEP_FILE)
    return run


def is_sweep(run: RunDir) -> bool:
    return (run.path / SWEEP_FILE).is_file()


def load_config(run: RunDir) -> SweepConfig:
    return SweepConfig.load(run.path / SWEEP_FILE)


def list_sweeps(root: Path | None = None) -> list[RunDir]:
    return [r for r in list_runs(root) if is_sweep(r)]


def get_sweep(sweep_id: str, root: Path | None = None) -> RunDir:
    root = Path(root or paths.runs_dir())
    if "/" in sweep_id or sweep_id.startswith(".") or not (root / sweep_id / SWEEP_FILE).is_file():
        raise FileNotFoundError(f"no sweep '{sweep_id}' in {root}")
    return RunDir(root / sweep_id)


def launch(sweep: SweepConfig, root: Path | None = None, address: str | None = None) -> RunDir:
    """Start `python -m mnist_core sweep --run-dir ...` as its own process and return at once."""
    from mnist_core.training import queue

    run = create(sweep, root)
    argv = ["sweep", "--run-dir", str(run.path), "--quiet", *(["--address", address] if address else [])]
    with queue.locked(run.path.parent):  # the child records itself only after we have
        spawn(run, argv)
    return run
