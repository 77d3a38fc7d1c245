"""Who gets in, and as whom: a token when the studio is shared, and each session's role.

The studio listens on 127.0.0.1 unless told otherwise (.streamlit/config.toml).
When it listens beyond loopback, or when a token is configured, every browser
session must sign in with a token first (`?token=...` in the URL, or the form);
until then app.py runs only the sign-in form, under every page's URL, so no page
script runs and deep links land on the same form. The token that signed a
session in decides its role: MNIST_STUDIO_TOKEN makes an editor,
MNIST_STUDIO_VISITOR_TOKEN a visitor; MNIST_STUDIO_READONLY=1 makes everyone a
visitor. Tokens come from the environment or, as root-level keys of the same
names, from .streamlit/secrets.toml (Streamlit copies those into the environment).

The core asks `mnist_core.access` for the caller's role before every write; this
module answers for the browser session being served (see `resolve_role`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

import streamlit as st

from mnist_core import access
from studio_ui import registry

TOKEN_ENV = "MNIST_STUDIO_TOKEN"
VISITOR_TOKEN_ENV = "MNIST_STUDIO_VISITOR_TOKEN"
REQUIRE_ENV = "MNIST_STUDIO_REQUIRE_TOKEN"  # the gate on loopback too (tests, a shared login machine)
WRONG_TOKEN_DELAY_S = 1.0
_AUTH = "_studio_auth"  # session_state: (role, sha256 of the token that signed in)
_FLASH = "_studio_gate_flash"


@dataclass(frozen=True)
class Sharing:
    address: str | None
    editor_token: str | None
    visitor_token: str | None
    forced: bool

    @property
    def beyond_loopback(self) -> bool:
        return not is_loopback(self.address)

    @property
    def gated(self) -> bool:
        return self.beyond_loopback or self.forced or bool(self.editor_token or self.visitor_token)

    def problem(self) -> str | None:
        """Why the studio must refuse everyone (a gate with no usable token), or None."""
        if not self.gated:
            return None
        if not self.editor_token:
            where = f"on {self.address or 'every network interface'}" if self.beyond_loopback else "with a token"
            return (f"This studio is served {where}, but no {TOKEN_ENV} is set, so it lets nobody in. "
                    f"Start it with `make run HOST=...` (which prints a sign-in URL with a fresh token), "
                    f"or set {TOKEN_ENV} in the environment or in .streamlit/secrets.toml.")
        if self.visitor_token == self.editor_token:
            return f"{VISITOR_TOKEN_ENV} must differ from {TOKEN_ENV}; the studio lets nobody in until it does."
        return None


def is_loopback(address: str | None) -> bool:
    """Whether a server.address listens on this machine only (unset means every interface)."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _token(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def sharing() -> Sharing:
    st.secrets.load_if_toml_exists()  # root-level secrets become environment variables
    return Sharing(address=st.get_option("server.address"), editor_token=_token(TOKEN_ENV),
                   visitor_token=_token(VISITOR_TOKEN_ENV),
                   forced=forced(os.environ))


def forced(env) -> bool:
    return env.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _match(given: str, cfg: Sharing) -> str | None:
    """The role a token grants; every comparison in constant time, both always made."""
    given_b = given.strip().encode()
    editor = hmac.compare_digest(given_b, (cfg.editor_token or "").encode()) and bool(cfg.editor_token)
    visitor = hmac.compare_digest(given_b, (cfg.visitor_token or "").encode()) and bool(cfg.visitor_token)
    return access.EDITOR if editor else access.VISITOR if visitor else None


def session_role(cfg: Sharing | None = None) -> str | None:
    """This session's role, or None when it has not signed in (or the studio refuses everyone)."""
    cfg = cfg or sharing()
    if cfg.gated:
        if cfg.problem():
            return None
        role, fingerprint = st.session_state.get(_AUTH) or (None, None)
        token = {access.EDITOR: cfg.editor_token, access.VISITOR: cfg.visitor_token}.get(role)
        if not token or not hmac.compare_digest(fingerprint or "", _fingerprint(token)):
            return None  # never signed in, or the token it used is no longer the server's
    else:
        role = access.EDITOR
    return access.VISITOR if access.readonly() else role


def resolve_role() -> str | None:
    """mnist_core.access's hook: the role of the session whose script is running on this thread."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is not None:
        return session_role() or access.VISITOR
    # A server thread that serves no session may change nothing; outside a server (tests, scripts) the caller is local.
    return access.VISITOR if Runtime.exists() else None


def require_access(pages: dict[str, list]) -> str:
    """The session's role; otherwise the sign-in form (or a refusal) under every page's URL, then stop."""
    access.set_session_resolver(resolve_role)
    cfg = sharing()
    problem = cfg.problem()
    if not problem:
        if cfg.gated:
            _adopt_url_token(cfg)
        role = session_role(cfg)
        if role:
            return role
    _only(pages, (lambda: st.error(problem, icon=":material/lock:")) if problem else (lambda: _sign_in_form(cfg)))
    st.stop()


def _only(pages: dict[str, list], body) -> None:
    """Run `body` as the one page behind every page's URL, so a deep link runs no page script."""
    mirrors = [st.Page(body, title="Sign in", url_path="sign-in", default=True)]
    mirrors += [st.Page(body, title="Sign in", url_path=p.url_path)
                for section in pages.values() for p in section if p.url_path]
    st.navigation(mirrors, position="hidden").run()


def _adopt_url_token(cfg: Sharing) -> None:
    """A link with ?token=... signs in, and the token leaves the address bar at once."""
    given = st.query_params.get("token")
    if given is None:
        return
    del st.query_params["token"]
    _sign_in(given, cfg)


def _sign_in(given: str, cfg: Sharing) -> bool:
    role = _match(given, cfg)
    if role is None:
        st.session_state.pop(_AUTH, None)
        time.sleep(WRONG_TOKEN_DELAY_S)  # slows guessing; the message says nothing about why
        st.session_state[_FLASH] = "That token is not right. Check it and try again."
        return False
    st.session_state[_AUTH] = (role, _fingerprint(cfg.editor_token if role == access.EDITOR else cfg.visitor_token))
    return True


def _sign_in_form(cfg: Sharing) -> None:
    st.title("MNIST Studio")
    st.markdown("This studio is shared on a network. Sign in with the token printed in the terminal "
                "where it was started, or the one you were given.")
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.error(flash, icon=":material/key_off:")
    with st.form("studio_sign_in", clear_on_submit=True, enter_to_submit=True):
        given = st.text_input("Token", type="password", key="studio_token")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        if _sign_in(given, cfg):
            st.rerun()
        st.error(st.session_state.pop(_FLASH), icon=":material/key_off:")


def for_role(pages: dict[str, list], role: str) -> dict[str, list]:
    """The navigation a role gets: a visitor's leaves out the pages that change things."""
    if role == access.EDITOR:
        return pages
    editor_only = registry.editor_only_paths()
    kept = {name: [p for p in section if p.url_path not in editor_only] for name, section in pages.items()}
    return {name: section for name, section in kept.items() if section}


def can_open(path: str) -> bool:
    """Whether this session's navigation has the page at pages/<name>.py (for st.page_link)."""
    return not _editor_only(path) or is_editor()


def _editor_only(path: str) -> bool:
    """What the registry says of the page script at `path` (relative, or a page's own __file__)."""
    return PurePosixPath(path).stem in registry.editor_only_paths()


def is_editor() -> bool:
    return access.current_role() == access.EDITOR


def sidebar(role: str) -> None:
    """Who you are, and the way out when you signed in."""
    cfg = sharing()
    with st.sidebar:
        if access.readonly():
            st.caption(":material/visibility: Read-only demo: nothing can be trained, changed or deleted.")
        elif role == access.VISITOR:
            st.caption(":material/visibility: Signed in as a visitor: you can look, not change.")
        if cfg.gated:
            if role == access.EDITOR:
                st.caption(":material/edit: Signed in as an editor.")
            if st.button("Sign out", icon=":material/logout:", key="studio_sign_out"):
                st.session_state.pop(_AUTH, None)
                st.rerun()


def guard_page(script: str | None = None) -> None:
    """A page's own check, for any way it might be run without app.py's gate: nothing unless signed in, and
    nothing but for an editor when the registry marks the page `script` (its __file__) editor-only."""
    role = session_role()
    if role is None or (script is not None and _editor_only(script) and role != access.EDITOR):
        st.stop()
