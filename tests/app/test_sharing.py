"""The sign-in gate: nothing but the form without the token, roles after it, a refusal when misconfigured."""

from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from mnist_core.models import store as store_mod
from studio_ui import gate

from .conftest import REPO, TIMEOUT, assert_clean, open_page, texts

EDITOR_TOKEN, VISITOR_TOKEN = "editor-secret-5f2c", "visitor-secret-9a1d"
PAGES = ["data", "train", "sweeps", "models", "inspect", "draw", "batch"]


@pytest.fixture
def shared(store, monkeypatch):
    """Sharing forced on (as beyond loopback), an editor and a visitor token, no wait after a wrong token."""
    monkeypatch.setenv(gate.REQUIRE_ENV, "1")
    monkeypatch.setenv(gate.TOKEN_ENV, EDITOR_TOKEN)
    monkeypatch.setenv(gate.VISITOR_TOKEN_ENV, VISITOR_TOKEN)
    monkeypatch.setattr(gate, "WRONG_TOKEN_DELAY_S", 0.01)
    return store


@pytest.fixture
def store_reads(monkeypatch) -> list[str]:
    """Every read of the model store: a page script doing its work would make one."""
    calls = []
    for name in ("list_names", "list_models", "read_card"):
        real = getattr(store_mod, name)
        monkeypatch.setattr(store_mod, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    return calls


def app(page: str | None = None, token: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["token"] = token
    if page:  # before the first run: the page named like a deep link to /<page>
        at.switch_page(f"pages/{page}.py")
    at.run()
    assert_clean(at)
    return at


def assert_only_the_form(at: AppTest) -> None:
    assert [t.value for t in at.title] == ["MNIST Studio"]
    assert [w.label for w in at.text_input] == ["Token"] and at.text_input[0].proto.type == at.text_input[0].proto.PASSWORD
    assert [b.label for b in at.button] == ["Sign in"]
    for kind in ("selectbox", "multiselect", "checkbox", "slider", "number_input", "dataframe", "metric", "tabs"):
        assert not list(at.get(kind)), kind
    assert not at.get("file_uploader") and not at.get("plotly_chart") and not at.get("page_link")
    assert not at.sidebar.selectbox


def sign_in(at: AppTest, token: str) -> AppTest:
    at.text_input(key="studio_token").input(token)
    at.button[0].click().run()
    assert_clean(at)
    return at


@pytest.mark.parametrize("page", [None, *PAGES])
def test_without_a_token_every_url_shows_the_form_and_runs_no_page(shared, store_reads, page):
    at = app(page)
    assert_only_the_form(at)
    assert store_reads == []


@pytest.mark.fresh_server
@pytest.mark.parametrize("page", ["models", "train"])
def test_a_deep_link_to_a_fresh_server_shows_only_the_form(shared, store_reads, page):
    at = app(page)  # Streamlit runs pages/<page>.py itself; the router guard sends it through app.py's gate
    assert_only_the_form(at)
    assert store_reads == []


def test_a_wrong_token_gets_a_plain_message_and_nothing_else(shared, store_reads):
    at = sign_in(app(), "editor-secret-5f2")
    assert_only_the_form(at)
    assert "That token is not right" in texts(at) and EDITOR_TOKEN not in texts(at)
    at = app(token="nope")
    assert_only_the_form(at)
    assert "That token is not right" in texts(at) and "token" not in at.query_params
    assert store_reads == []


def test_the_right_token_opens_every_page_until_sign_out(shared):
    at = sign_in(app(), EDITOR_TOKEN)
    assert at.sidebar.selectbox[0].label == "Active model"
    assert "Signed in as an editor" in "\n".join(c.value for c in at.sidebar.caption)
    for page in PAGES:
        open_page(page, at)
        assert at.title and not [w for w in at.text_input if w.label == "Token"], page
    open_page("models", at)
    at.selectbox(key="models_pick").select("flat").run()
    assert at.button(key="models_delete")
    at.sidebar.button(key="studio_sign_out").click().run()
    assert_only_the_form(at)


def test_a_token_in_the_url_signs_in_and_leaves_the_address_bar(shared):
    at = app(token=EDITOR_TOKEN)
    assert "token" not in at.query_params
    assert at.sidebar.selectbox[0].label == "Active model"
    open_page("train", at)
    assert [t.value for t in at.title] == ["Train"]


def test_a_visitor_sees_no_train_delete_or_promote(shared):
    at = app(token=VISITOR_TOKEN)
    assert "Signed in as a visitor" in "\n".join(c.value for c in at.sidebar.caption)
    for page in ("train", "sweeps"):  # not in the visitor's navigation
        with pytest.raises(ValueError, match="navigation page"):
            at.switch_page(f"pages/{page}.py")
    assert "pages/train.py" not in [link.proto.page for link in at.get("page_link")]
    for page in ["models", "inspect", "draw", "batch", "data"]:
        open_page(page, at)
    open_page("models", at)
    labels = [b.label for b in at.button] + [c.label for c in at.checkbox]
    assert not any("Delete" in label or "delete" in label or "Promote" in label for label in labels), labels
    assert set(store_mod.list_names()) == {"default", "flat"}


def test_read_only_mode_makes_everyone_a_visitor(store, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_READONLY", "1")
    at = open_page()
    assert "Read-only demo" in "\n".join(c.value for c in at.sidebar.caption)
    with pytest.raises(ValueError, match="navigation page"):
        at.switch_page("pages/train.py")
    open_page("models", at)
    at.selectbox(key="models_pick").select("flat").run()
    labels = [b.label for b in at.button] + [c.label for c in at.checkbox]
    assert not any(word in label.lower() for label in labels for word in ("delete", "promote")), labels
    assert "models_delete" not in [b.key for b in at.button]


def test_the_shipped_default_cannot_be_deleted_from_the_dashboard(store):
    at = open_page("models")
    at.selectbox(key="models_pick").select("default").run()
    assert not [b for b in at.button if b.key == "models_delete"]
    assert "cannot be deleted here" in texts(at)
    at.selectbox(key="models_pick").select("flat").run()
    assert "models/flat/ (card.json, model.npz)" in at.checkbox(key="models_sure_flat").label


@pytest.mark.parametrize("env", [{gate.REQUIRE_ENV: "1"}, {gate.VISITOR_TOKEN_ENV: VISITOR_TOKEN},
                                 {gate.REQUIRE_ENV: "1", gate.TOKEN_ENV: "same", gate.VISITOR_TOKEN_ENV: "same"}])
def test_a_gate_without_a_usable_token_lets_nobody_in(store, store_reads, monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = app("models", token="same")
    assert at.error and "lets nobody in" in at.error[0].value
    assert not at.text_input and not at.button and not at.sidebar.selectbox and store_reads == []


@pytest.fixture
def every_interface():
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield
    st_config.set_option("server.address", before)


def test_beyond_loopback_the_gate_applies_without_being_forced(store, every_interface, monkeypatch):
    at = app()
    assert "served on 0.0.0.0" in at.error[0].value and not at.sidebar.selectbox
    monkeypatch.setenv(gate.TOKEN_ENV, EDITOR_TOKEN)
    assert_only_the_form(app())
    assert app(token=EDITOR_TOKEN).sidebar.selectbox[0].label == "Active model"


def _writer_script():
    """A page that tries a write: the core must refuse it for a visitor's session."""
    import streamlit as st

    from mnist_core.access import AccessDenied
    from mnist_core.models import store
    from studio_ui import gate

    gate.require_access({})
    try:
        store.delete("flat")
        st.success("deleted")
    except AccessDenied as exc:
        st.warning(str(exc))


@pytest.mark.parametrize("token,outcome", [(VISITOR_TOKEN, "visitor"), (EDITOR_TOKEN, "deleted")])
def test_the_core_refuses_a_visitor_sessions_writes(shared, token, outcome):
    at = AppTest.from_function(_writer_script, default_timeout=TIMEOUT)
    at.query_params["token"] = token
    at.run()
    assert_clean(at)
    assert outcome in texts(at)
    assert ("flat" in store_mod.list_names()) == (outcome == "visitor")


@pytest.mark.parametrize("address,loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                              ("127.0.0.2", True), ("0.0.0.0", False), ("", False),
                                              (None, False), ("::", False), ("192.168.1.5", False),
                                              ("myhost", False)])
def test_is_loopback(address, loopback):
    assert gate.is_loopback(address) is loopback
