"""The studio's tasks and what their classes are called (models output one probability per class, in this order)."""

from __future__ import annotations

TASKS = ("digits", "shapes")  # MNIST's digits, or generated hand-drawn shapes (data/shapes.py)
DIGITS = tuple("0123456789")


def class_names(task: str = "digits") -> tuple:
    """The names of a task's classes, in the order of the model's outputs."""
    if task == "shapes":
        from mnist_core.data.shapes import CLASSES

        return CLASSES
    return DIGITS


def n_classes(config) -> int:
    """How many outputs a TrainConfig's task needs."""
    return len(class_names(getattr(config, "task", "digits")))


SHIPPED = {"digits": "default", "shapes": "shapes"}  # the model each task reads with on a fresh clone
NOUNS = {"digits": "digit", "shapes": "shape"}


def card_task(card: dict) -> str:
    """A card's task; cards written before tasks existed are digits."""
    return card.get("task") or (card.get("config") or {}).get("task") or "digits"


def noun(task: str) -> str:
    """What one example of a task is called on the pages: 'digit' or 'shape'."""
    return NOUNS.get(task, "class")


def tasks_by_name(cards: list) -> dict:
    """{model name: task} for the store's readable cards. An ensemble's card may not name its task: then it
    is its first member's (members share one task), digits when that member is not among the cards."""
    own = {c["name"]: card_task(c) for c in cards if "error" not in c and c.get("name")}
    for c in cards:
        ensemble = c.get("kind") == "ensemble"  # models.loading.ENSEMBLE (tasks sits below loading: no import)
        if c.get("name") in own and ensemble and "task" not in c and isinstance(c.get("members"), list):
            own[c["name"]] = own.get(c["members"][0] if c["members"] else None, "digits")
    return own


def choose_model(task: str, tasks: dict, wanted: str | None = None) -> str | None:
    """The model a task reads with: `wanted` when it is a saved model of that task, else the task's shipped
    model, else the first model of that task by name; None when the store has none of that task.
    tasks: {model name: task} (tasks_by_name)."""
    if tasks.get(wanted) == task:
        return wanted
    if tasks.get(SHIPPED.get(task)) == task:
        return SHIPPED[task]
    return min((n for n, t in tasks.items() if t == task), default=None)
