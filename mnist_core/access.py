"""Who may change the store and the runs: an editor, or a visitor who may only read.

The core's write paths (save, copy, delete, ensembles, promote, launching and
stopping runs) call `require_editor` first, so no page, button or script can
get round a role by calling the core directly.

The role of the current caller, in order:
- `MNIST_STUDIO_READONLY=1` (a public demo): everyone is a visitor;
- inside `acting_as(role)`: that role (a ContextVar, so per thread and task);
- in the dashboard: the role of the browser session being served, asked of the
  resolver the dashboard registers with `set_session_resolver` (Streamlit
  serves many sessions from one process and may run a session's fragment
  reruns on a fresh thread, so a value set at the top of a script run would
  not reach them; the session state does);
- otherwise (the CLI, scripts, tests): an editor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from mnist_core.errors import UserError

VISITOR, EDITOR = "visitor", "editor"
ROLES = (VISITOR, EDITOR)
READONLY_ENV = "MNIST_STUDIO_READONLY"
_TRUE = {"1", "true", "yes", "on"}

_role: ContextVar[str | None] = ContextVar("mnist_studio_role", default=None)
# Returns the role of the session being served, VISITOR when serving but not
# in a session, or None when not serving at all (then the caller is local).
_session_resolver: Callable[[], str | None] | None = None


class AccessDenied(UserError, PermissionError):
    """A write refused for the caller's role; the message is meant for the user."""


def readonly() -> bool:
    return os.environ.get(READONLY_ENV, "").strip().lower() in _TRUE


def current_role() -> str:
    if readonly():
        return VISITOR
    role = _role.get()
    if role is None and _session_resolver is not None:
        role = _session_resolver()
    if role is None:
        return EDITOR
    return role if role in ROLES else VISITOR  # anything unexpected reads as the lesser role


def is_editor() -> bool:
    return current_role() == EDITOR


def require_editor(action: str) -> None:
    """Raise AccessDenied unless the caller may change things; `action` says what was refused."""
    if current_role() == EDITOR:
        return
    why = (f"the studio is in read-only mode ({READONLY_ENV}=1)" if readonly()
           else "you are signed in as a visitor, who may only look")
    raise AccessDenied(f"cannot {action}: {why}")


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    """Run a block with the given role (tests, or a server thread acting for one session)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    token = _role.set(role)
    try:
        yield
    finally:
        _role.reset(token)


def set_session_resolver(resolver: Callable[[], str | None] | None) -> None:
    """The dashboard's hook: how to find the role of the session currently being served."""
    global _session_resolver
    _session_resolver = resolver
