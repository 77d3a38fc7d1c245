"""Every page opens in Chromium, straight from its URL, without an error or exception."""

import re

import pytest

from .conftest import problems, start_server, stop_server, wait_idle

PAGES = [("", "MNIST Studio"), ("data", "Data"), ("train", "Train"), ("sweeps", "Sweeps"),
         ("models", "Models"),
         ("inspect", "Inspect"), ("draw", "Draw"), ("batch", "Batch")]


@pytest.mark.parametrize("path,title", PAGES, ids=[t for _, t in PAGES])
def test_page_opens_cleanly(page, path, title):
    page.goto(f"{page.base_url}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for()
    wait_idle(page)
    assert problems(page) == []
    nav = page.locator("[data-testid=stSidebarNav] a")
    assert nav.count() == len(PAGES)
    assert page.get_by_role("combobox", name="Active model").input_value() == "default"


def test_inspect_draws_its_charts_and_a_click_picks_a_confusion_cell(page):
    page.goto(f"{page.base_url}/inspect")
    page.get_by_text("Most confident mistakes", exact=True).wait_for()
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() == 2  # confusion matrix, per-class bars
    page.get_by_role("tab", name="Look inside").click()
    page.get_by_text("Feature maps", exact=True).wait_for()
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() == 5  # input, saliency, probabilities, feature maps, filters
    page.get_by_role("tab", name="Test set").click()
    page.get_by_text("Most confident mistakes", exact=True).wait_for()
    wait_idle(page)
    # The first chart is the confusion matrix: click the cell true 7, predicted 2.
    x, y = page.evaluate("""([t, p]) => {
        const g = document.querySelector('.js-plotly-plot'), L = g._fullLayout, r = g.getBoundingClientRect();
        return [r.left + L._size.l + L.xaxis.d2p(String(p)), r.top + L._size.t + L.yaxis.d2p(String(t))];
    }""", [7, 2])
    page.mouse.click(x, y)
    page.get_by_text(re.compile(r"test images of a 7 predicted as 2")).wait_for()
    wait_idle(page)
    assert page.get_by_role("combobox", name="True digit").input_value() == "7"
    assert page.get_by_role("combobox", name="Predicted digit").input_value() == "2"
    assert problems(page) == []


def test_a_deep_link_to_a_fresh_server_still_goes_through_the_router(browser, browser_store, tmp_path):
    """The first request after start-up is /models: Streamlit would run pages/models.py bare (pages/ scan)."""
    models, runs = browser_store
    proc, url = start_server(models, runs, tmp_path / "streamlit.log")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{url}/models")
        tab.get_by_role("heading", name="Models", level=1).wait_for()
        wait_idle(tab)
        assert tab.url == f"{url}/models"
        assert problems(tab) == []
        labels = tab.locator("[data-testid=stSidebarNav] a").all_inner_texts()
        # Each link's text is its icon's ligature name, then its title.
        assert [t.split()[-1] for t in labels] == ["Home", "Data", "Train", "Sweeps", "Models", "Inspect", "Draw", "Batch"]
        assert tab.get_by_role("combobox", name="Active model").input_value() == "default"
    finally:
        context.close()
        stop_server(proc)


@pytest.mark.parametrize("path,tab,charts", [("data", "Class balance", 1), ("models", "Learning curves", 2)])
def test_a_chart_tab_is_drawn_when_it_is_clicked_and_not_before(page, path, tab, charts):
    """Data and Models open without plotly; clicking the tab reruns the page and draws its charts."""
    page.goto(f"{page.base_url}/{path}")
    page.get_by_role("heading", level=1).wait_for()
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() == 0
    page.get_by_role("tab", name=tab).click()
    page.locator(".js-plotly-plot").nth(charts - 1).wait_for()
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() == charts
    assert page.get_by_role("tab", name=tab).get_attribute("aria-selected") == "true"
    assert problems(page) == []
