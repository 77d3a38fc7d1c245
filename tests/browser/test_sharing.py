"""Sharing on, in Chromium: nothing without the token, every page with it, a visitor changes nothing.

The server listens on 127.0.0.1 with MNIST_STUDIO_REQUIRE_TOKEN=1, which applies
the gate exactly as a server bound beyond loopback would. Its first request is
a deep link (/models): on a fresh server Streamlit runs that page script itself.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import expect

from studio_ui import gate, registry

from .conftest import problems, start_server, stop_server, wait_idle

EDITOR, VISITOR = "editor-7c1f0b2e9d", "visitor-3a8e6d5f1c"
NAV = [page.title for page in registry.all_pages()]
PATHS = ["models", ""] + [page.url_path for page in registry.all_pages() if page is not registry.HOME]
EDITOR_ONLY = ["Train", "Sweeps"]
# What pages draw and the sign-in form never does.
PAGE_WIDGETS = ["stSidebarNav", "stSelectbox", "stMultiSelect", "stFileUploader", "stDataFrame", "stPlotlyChart",
                "stMetric", "stCheckbox", "stSlider", "stNumberInput", "stTabs", "stPageLink", "stExpander",
                "stDownloadButton", "stIFrame", "stCustomComponentV1"]


@pytest.fixture(scope="module")
def shared_server(chromium_path, browser_store, tmp_path_factory):
    models, runs = browser_store
    root = tmp_path_factory.mktemp("shared")
    shutil.copytree(models, root / "models")
    spare = root / "models" / "spare"  # a model that may be deleted (the shipped default never is)
    shutil.copytree(root / "models" / "default", spare)
    card = json.loads((spare / "card.json").read_text())
    (spare / "card.json").write_text(json.dumps({**card, "name": "spare"}))
    env = {gate.REQUIRE_ENV: "1", gate.TOKEN_ENV: EDITOR, gate.VISITOR_TOKEN_ENV: VISITOR}
    proc, url = start_server(root / "models", runs, root / "streamlit.log", extra_env=env)
    yield url, root / "models"
    stop_server(proc)


@pytest.fixture
def tab(browser, shared_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.base_url = shared_server[0]
    yield page
    context.close()


def assert_only_the_form(tab) -> None:
    tab.get_by_role("button", name=re.compile("Sign in")).wait_for()
    wait_idle(tab)
    expect(tab.locator("input")).to_have_count(1)  # a rerun may still be replacing the last form
    assert tab.locator("input[type=password]").count() == 1
    assert tab.locator("h1").all_inner_texts() == ["MNIST Studio"]
    drawn = {w: tab.locator(f"[data-testid={w}]").count() for w in PAGE_WIDGETS}
    assert not any(drawn.values()), drawn
    expect(tab.locator("[data-testid=stSidebar] [data-testid=stElementContainer]")).to_have_count(0)
    assert all(p.endswith("That token is not right. Check it and try again.") for p in problems(tab))


def test_without_the_token_every_url_shows_only_the_form(tab):
    for path in PATHS:  # the first is the fresh server's first request
        tab.goto(f"{tab.base_url}/{path}")
        assert_only_the_form(tab)
        assert problems(tab) == []


def test_a_wrong_token_shows_the_same_form_and_a_plain_message(tab):
    tab.goto(f"{tab.base_url}/models?token=not-{EDITOR}")
    assert_only_the_form(tab)
    assert "token" not in tab.url
    tab.get_by_text("That token is not right").wait_for()
    tab.get_by_label("Token").fill(VISITOR[:-1])
    tab.get_by_role("button", name=re.compile("Sign in")).click()
    expect(tab.get_by_text("That token is not right")).to_have_count(1)
    wait_idle(tab, settle=1.5)  # the wrong token's delay, then the rerun
    assert_only_the_form(tab)
    assert EDITOR not in tab.content() and VISITOR not in tab.content()


def nav_labels(tab) -> list[str]:
    return [t.split()[-1] for t in tab.locator("[data-testid=stSidebarNav] a").all_inner_texts()]


def test_with_the_token_every_page_works_until_sign_out(tab):
    tab.goto(f"{tab.base_url}/?token={EDITOR}")
    tab.get_by_role("heading", name="MNIST Studio", level=1).wait_for()
    wait_idle(tab)
    assert "token" not in tab.url and nav_labels(tab) == NAV
    for title in NAV[1:]:  # page changes inside the session keep it signed in
        tab.locator("[data-testid=stSidebarNav] a").filter(has_text=title).click()
        tab.get_by_role("heading", name=title, level=1).wait_for()
        wait_idle(tab)
        assert problems(tab) == [], title
        assert tab.locator("input[type=password]").count() == 0
    tab.goto(f"{tab.base_url}/models?model=spare&token={EDITOR}")
    tab.get_by_text("models/spare/").wait_for()
    assert tab.get_by_role("button", name=re.compile("Delete")).count() == 1
    tab.get_by_role("button", name=re.compile("Sign out")).click()
    assert_only_the_form(tab)


def test_the_form_signs_in(tab):
    tab.goto(f"{tab.base_url}/draw")
    assert_only_the_form(tab)
    tab.get_by_label("Token").fill(EDITOR)
    tab.get_by_role("button", name=re.compile("Sign in")).click()
    tab.get_by_role("heading", name="Draw", level=1).wait_for()  # the deep link's page, once signed in
    wait_idle(tab)
    assert problems(tab) == []


def test_a_visitor_sees_no_train_sweeps_delete_or_promote(tab, shared_server):
    tab.goto(f"{tab.base_url}/models?model=spare&token={VISITOR}")
    tab.get_by_role("heading", name="Models", level=1).wait_for()
    wait_idle(tab)
    assert nav_labels(tab) == [n for n in NAV if n not in EDITOR_ONLY]
    assert EDITOR_ONLY == ["Train", "Sweeps"] and set(EDITOR_ONLY) <= set(NAV)
    assert tab.get_by_text("Signed in as a visitor").count() == 1
    body = tab.locator("[data-testid=stMain]").inner_text()
    assert "Delete" not in body and "Promote" not in body and "promote" not in body
    assert tab.get_by_role("button", name=re.compile("Delete|Promote|Start|Cancel|ensemble")).count() == 0
    for title in ["Inspect", "Draw", "Batch", "Data"]:
        tab.locator("[data-testid=stSidebarNav] a").filter(has_text=title).click()
        tab.get_by_role("heading", name=title, level=1).wait_for()
        wait_idle(tab)
        assert problems(tab) == [], title
    for path, title in [("train", "Train"), ("sweeps", "Sweeps")]:  # deep links: not pages for a visitor
        tab.goto(f"{tab.base_url}/{path}?token={VISITOR}")
        tab.get_by_role("heading", name="MNIST Studio", level=1).wait_for()
        wait_idle(tab)
        assert tab.get_by_role("button", name=re.compile("Start|Promote|ensemble")).count() == 0
        assert tab.get_by_role("heading", name=title, level=1).count() == 0
    assert (shared_server[1] / "spare" / "card.json").is_file()
