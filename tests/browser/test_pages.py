"""Every page opens in Chromium, straight from its URL, without an error or exception."""

import pytest

from .conftest import problems, wait_idle

PAGES = [("", "MNIST Studio"), ("data", "Data"), ("train", "Train"), ("models", "Models"),
         ("inspect", "Inspect"), ("draw", "Draw"), ("batch", "Batch")]


@pytest.mark.parametrize("path,title", PAGES, ids=[t for _, t in PAGES])
def test_page_opens_cleanly(page, path, title):
    page.goto(f"{page.base_url}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for()
    wait_idle(page)
    assert problems(page) == []
    nav = page.locator("[data-testid=stSidebarNav] a")
    assert nav.count() == 7
    assert page.get_by_role("combobox", name="Active model").input_value() == "default"


def test_inspect_draws_its_charts(page):
    page.goto(f"{page.base_url}/inspect")
    page.get_by_text("Feature maps").wait_for()
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() == 9
    assert problems(page) == []
