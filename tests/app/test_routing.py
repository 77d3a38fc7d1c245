"""A page reached before app.py has ever run (Streamlit's pages/ scan) still gets the router's sidebar."""

import pytest
from streamlit.runtime.pages_manager import PagesManager

from .conftest import open_page, texts

pytestmark = pytest.mark.fresh_server  # keep AppTest's own behaviour: every run is a fresh server's first


@pytest.mark.parametrize("page,title", [("models", "Models"), ("data", "Data")])
def test_a_page_run_by_the_pages_scan_reruns_through_the_router(store, page, title):
    at = open_page(page)
    assert PagesManager.uses_pages_directory is False
    assert [t.value for t in at.title] == [title]
    picker = at.sidebar.selectbox[0]
    assert picker.label == "Active model" and picker.value == "default"
    assert "test accuracy" in texts(at)
