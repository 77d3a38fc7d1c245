"""A sweep read back from its run directory: one row per trial, the ranking, the counts, the headline.

What the Sweeps page, `sweeps` and TensorBoard show. Trials are ranked by
their last validation accuracy, ties by validation loss (selection.RULE);
the test set never chooses anything.
"""

from __future__ import annotations

import math

from mnist_core.training.rundir import ACTIVE, RunDir
from mnist_core.training.sweeps import load_config

TRIAL_STATES = ("pending", "running", "completed", "stopped", "failed", "cancelled", "interrupted")


def trials_from_events(events: list[dict], sweep_state: str) -> list[dict]:
    """One row per trial: state, parameters, per-epoch validation accuracy, saved model."""
    trials: dict[str, dict] = {}

    def row(trial_id: str) -> dict:
        return trials.setdefault(trial_id, {"trial": trial_id, "number": len(trials), "state": "pending",
                                            "params": {}, "epochs": [], "val_accuracy": [], "val_loss": [],
                                            "error": None, "node": None, "model": None, "stopped_early": False})

    for e in events:
        kind, trial_id = e.get("type"), e.get("trial")
        if not trial_id or kind not in ("trial_state", "trial_result", "trial_saved", "trial_unsaved"):
            continue
        r = row(trial_id)
        if kind == "trial_state":
            r["state"] = e.get("state", r["state"])
            r["params"] = e.get("params") or r["params"]
            r["number"] = e.get("number", r["number"])
            r["error"] = e.get("error") or r["error"]
            r["stopped_early"] = r["state"] == "stopped"
        elif kind == "trial_result":
            r["epochs"].append(int(e.get("epoch", len(r["epochs"]) + 1)))
            r["val_accuracy"].append(e.get("val_accuracy"))
            r["val_loss"].append(e.get("val_loss"))
            r["node"] = e.get("node") or r["node"]
        elif kind == "trial_saved":
            r["model"] = e.get("name")
        else:
            r["model"] = None
    ended = sweep_state not in ACTIVE
    for r in trials.values():
        r["epoch"] = r["epochs"][-1] if r["epochs"] else 0
        r["last_val_accuracy"] = r["val_accuracy"][-1] if r["val_accuracy"] else None
        r["last_val_loss"] = r["val_loss"][-1] if r["val_loss"] else None
        r["label"] = trial_label(r["number"])
        if ended and r["state"] in ("pending", "running"):  # the driver ended before this trial did
            r["state"] = "cancelled" if sweep_state == "cancelled" else "interrupted"
    return sorted(trials.values(), key=lambda r: r["number"])


def trial_label(number: int) -> str:
    """What charts and tables call a trial: Ray's trial ids are 40 characters of noise to a reader."""
    return f"t{number:02d}"


def rank(trials: list[dict]) -> list[dict]:
    """Trials that reported, best first: last validation accuracy, ties by validation loss (selection.RULE)."""
    scored = [t for t in trials if t["last_val_accuracy"] is not None]
    return sorted(scored, key=lambda t: (-t["last_val_accuracy"],
                                         t["last_val_loss"] if t["last_val_loss"] is not None else math.inf,
                                         t["number"]))


def counts(trials: list[dict], total: int | None = None) -> dict:
    out = {s: sum(t["state"] == s for t in trials) for s in TRIAL_STATES}
    out["total"] = max(total or 0, len(trials))
    out["done"] = sum(out[s] for s in ("completed", "stopped", "failed", "cancelled", "interrupted"))
    return out


def sweep_view(run: RunDir) -> dict:
    """Everything the Sweeps page and `sweeps` show for one sweep, read once from its directory."""
    status, events = run.status(), run.events()
    try:
        config = load_config(run).to_dict()
    except (OSError, ValueError, TypeError, KeyError):
        config = {}
    state = status.get("state", "unknown")
    trials = trials_from_events(events, state)
    ranked = rank(trials)
    end = next((e for e in reversed(events) if e.get("type") == "end"), {})
    view = {"id": run.id, "path": str(run.path), "state": state, "active": state in ACTIVE, "config": config,
            "model": (config.get("base") or {}).get("model"), "trials": trials, "ranked": ranked,
            "best": ranked[0] if ranked else None, "counts": counts(trials, status.get("total")),
            "saved": [t["model"] for t in trials if t["model"]], "ensemble": end.get("ensemble"),
            "error": status.get("error"), "address": status.get("address"), "nodes": status.get("nodes"),
            "started": status.get("started"), "ended": status.get("ended")}
    view["headline"] = headline(view)
    return view


def headline(view: dict) -> str:
    c = view["counts"]
    line = (f"{c['done']}/{c['total']} trials done · {c['running']} running · {c['stopped']} stopped early · "
            f"{c['failed']} failed")
    best = view["best"]
    if best:
        line += f" · best val accuracy {best['last_val_accuracy']:.2%} ({best['label']})"
    if view["state"] == "queued":
        return "starting: Ray, TensorFlow and MNIST"
    if view["state"] in ("failed", "interrupted"):
        return f"{view['state']}: {view['error'] or 'no reason recorded'} · {line}"
    return f"{view['state']} · {line}"
