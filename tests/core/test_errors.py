"""One UserError for everything a user can get wrong: every such class derives from it, and the CLI
prints any of them as one line with exit status 2."""

import ast
import importlib

import pytest

from mnist_core import cli
from mnist_core.cli import models as models_cmds
from mnist_core.errors import UserError
from tests.conftest import REPO

# Exceptions in the core that are not a user's mistake: control flow inside a run.
NOT_USER_ERRORS = {"mnist_core.training.rundir.Cancelled"}


def core_exception_classes() -> list[type]:
    """Every exception class defined at the top of a module in mnist_core."""
    found = []
    for path in sorted((REPO / "mnist_core").rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        if not names:
            continue
        mod = importlib.import_module(module)
        found += [c for c in (getattr(mod, n) for n in names) if isinstance(c, type) and issubclass(c, BaseException)
                  and c.__module__ == module]
    return found


def test_every_exception_of_the_core_is_a_user_error_or_named_as_not_one():
    classes = core_exception_classes()
    assert len(classes) > 15  # the scan found them
    strays = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, UserError)]
    assert set(strays) == NOT_USER_ERRORS


@pytest.mark.parametrize("error", [c for c in core_exception_classes() if issubclass(c, UserError)],
                         ids=lambda c: c.__name__)
def test_the_cli_prints_any_user_error_as_one_line_with_status_2(error, monkeypatch, capsys):
    def refuse(args):
        raise error.__new__(error, "that cannot be done: here is why")  # whatever the class's own __init__ takes

    monkeypatch.setattr(models_cmds, "cmd_models", refuse)
    assert cli.main(["models"]) == 2
    assert capsys.readouterr().err == "error: that cannot be done: here is why\n"


@pytest.mark.parametrize("data", [["lr", 0.1], "cnn", 3, None])
def test_a_recipe_that_is_not_an_object_is_a_config_error_not_a_type_error(data):
    from mnist_core.training.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="a config is a JSON object"):
        TrainConfig.from_dict(data)
