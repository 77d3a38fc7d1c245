"""What every command module shares."""

from mnist_core.errors import UserError  # the commands' own refusals; main() prints every UserError as one line

__all__ = ["UserError"]
