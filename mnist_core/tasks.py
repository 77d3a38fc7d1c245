"""The studio's tasks: what a model reads, as one Task on every card and loaded model.

A Task is its name (a str: "digits" or "shapes") carrying everything a page or command needs to know
about the task: its classes in output order, what one example is called, the test set it is scored on
and the model a fresh clone reads with. Being the name itself, it is what cards, TrainConfig, JSON,
widget values and session state hold, and it compares equal to that name, so nothing stores a second
encoding of it; `get(name)` gives back the full Task.
"""

from __future__ import annotations

from mnist_core.errors import UserError

DIGITS = tuple("0123456789")
SHAPE_CLASSES = ("ellipse", "rectangle", "triangle", "star", "line", "arrow", "heart", "cross", "pentagon")


class Task(str):
    """A task by name, with classes (output order), noun ("digit"), test_set (what it is scored on, for
    captions; analysis.testset.load reads it) and shipped (the model it reads with on a fresh clone)."""

    def __new__(cls, name: str, classes: tuple, noun: str, test_set: str, shipped: str):
        self = super().__new__(cls, name)
        for key, value in (("classes", tuple(classes)), ("noun", noun), ("test_set", test_set), ("shipped", shipped)):
            object.__setattr__(self, key, value)
        return self

    def __setattr__(self, key, value):
        raise AttributeError("a Task is read-only")

    def __reduce__(self):  # pickled (worker processes, caches) as the lookup of its name
        return (get, (str(self),))

    @property
    def name(self) -> str:
        return str(self)

    @property
    def named(self) -> bool:
        """Whether the classes are names (shapes) rather than the digits 0-9, which read as numbers."""
        return self.classes != DIGITS


class UnknownTask(UserError, ValueError):
    """A task name that is none of TASKS."""


DIGITS_TASK = Task("digits", DIGITS, "digit", "MNIST test images", "default")
SHAPES_TASK = Task("shapes", SHAPE_CLASSES, "shape", "generated test drawings", "shapes")
_ALL = {str(t): t for t in (DIGITS_TASK, SHAPES_TASK)}
TASKS = tuple(_ALL)  # MNIST's digits, or generated hand-drawn shapes (data/shapes.py)
SHIPPED = {name: t.shipped for name, t in _ALL.items()}  # the model each task reads with on a fresh clone


def get(task: str) -> Task:
    """The Task of a name (or of a Task); UnknownTask for any other name."""
    if not isinstance(task, str) or task not in _ALL:
        raise UnknownTask(f"unknown task {task!r}: tasks are {', '.join(TASKS)}")
    return _ALL[task]


def class_names(task: str = "digits") -> tuple:
    """The names of a task's classes, in the order of the model's outputs."""
    return get(task).classes


def n_classes(config) -> int:
    """How many outputs a TrainConfig's task needs."""
    return len(class_names(getattr(config, "task", "digits")))


def of_card(card: dict) -> Task:
    """A card's own task; cards written before tasks existed are digits. An ensemble whose card does not
    name its task reads as its members do: ask tasks_by_name (the store's cards) or the loaded model."""
    return get(card.get("task") or (card.get("config") or {}).get("task") or "digits")


def tasks_by_name(cards: list) -> dict:
    """{model name: Task} for the store's readable cards. An ensemble's card may not name its task: then it
    is its first member's (members share one task), digits when that member is not among the cards. A card
    naming an unknown task is left out, like an unreadable one."""
    own = {}
    for c in cards:
        if "error" not in c and c.get("name"):
            try:
                own[c["name"]] = of_card(c)
            except UnknownTask:
                continue
    for c in cards:
        ensemble = c.get("kind") == "ensemble"  # models.loading.ENSEMBLE (tasks sits below loading: no import)
        if c.get("name") in own and ensemble and "task" not in c and isinstance(c.get("members"), list):
            own[c["name"]] = own.get(c["members"][0] if c["members"] else None, DIGITS_TASK)
    return own


def choose_model(task: str, tasks: dict, wanted: str | None = None) -> str | None:
    """The model a task reads with: `wanted` when it is a saved model of that task, else the task's shipped
    model, else the first model of that task by name; None when the store has none of that task.
    tasks: {model name: Task} (tasks_by_name)."""
    task = get(task)
    if tasks.get(wanted) == task:
        return wanted
    if tasks.get(task.shipped) == task:
        return task.shipped
    return min((n for n, t in tasks.items() if t == task), default=None)
