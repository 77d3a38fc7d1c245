"""python -m mnist_core COMMAND: one module per group of commands, each with register(sub)."""

from __future__ import annotations

import argparse
import os
import sys

from mnist_core.cli import export as export_cmds
from mnist_core.cli import finetune as finetune_cmds
from mnist_core.cli import importing as import_cmds
from mnist_core.cli import models as models_cmds
from mnist_core.cli import reading as reading_cmds
from mnist_core.cli import sheets as sheets_cmds
from mnist_core.cli import sweeps as sweeps_cmds
from mnist_core.cli import training as training_cmds
from mnist_core.cli.quiet import native_stderr_silenced
from mnist_core.cpu_env import prefer_onednn
from mnist_core.errors import UserError

# Each module adds its subcommands; a new group of commands is a new module listed here.
COMMAND_GROUPS = (training_cmds, reading_cmds, models_cmds, sweeps_cmds, export_cmds, finetune_cmds, sheets_cmds,
                  import_cmds)
# Everything a user can get wrong is a UserError; a file the user named that is not there, the OS's own.
USER_ERRORS = (UserError, FileNotFoundError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description="MNIST Studio command line")
    verbose = "show TensorFlow's own start-up and log lines (hidden by default)"
    parser.add_argument("--verbose", action="store_true", help=verbose)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    for command in sub.choices.values():  # also after the command: predict x.png --verbose
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose)
    return parser


def main(argv: list[str] | None = None) -> int:
    prefer_onednn()  # before any command imports TensorFlow; run and sweep processes are CLI commands too
    args = build_parser().parse_args(argv)
    if args.verbose:
        return _run(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own logging, once it is set up
    with native_stderr_silenced():  # the C++ lines printed before that
        return _run(args)


def _run(args) -> int:
    try:
        return args.func(args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
