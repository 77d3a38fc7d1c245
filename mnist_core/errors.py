"""UserError: the one base of everything a user can get wrong (config, store, image, cluster, access).

The CLI prints any UserError as one line, `error: ...`, with exit status 2; a page shows it in one
st.error (studio_ui.state.user_errors). Anything else is a bug and keeps its traceback, so neither
catches a bare ValueError. Subclasses may also derive from the built-in they replaced (ValueError,
PermissionError, ...) so older `except` clauses keep working while they move to UserError.

This module imports nothing from the package: every layer may raise these.
"""


class UserError(Exception):
    """Something the user can fix, with a message that says what; never a traceback."""
