"""Offline means offline: every request a page makes while it loads stays on 127.0.0.1 (the favicon was
fetched from Google's font server, and failed without a network)."""

from urllib.parse import urlparse

import pytest

from .conftest import wait_idle
from .test_pages import PAGES

LOCAL = {"127.0.0.1", "localhost"}


def _leaving(urls: list[str]) -> list[str]:
    return [u for u in urls if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL]


def test_the_check_catches_a_request_to_the_internet():
    assert _leaving(["http://127.0.0.1:8501/static/x.js", "data:image/png;base64,AA",
                     "https://fonts.gstatic.com/s/i/draw.svg"]) == ["https://fonts.gstatic.com/s/i/draw.svg"]


@pytest.mark.parametrize("path,title", PAGES, ids=[t for _, t in PAGES])
def test_a_page_asks_nothing_of_the_internet(page, path, title):
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(f"{page.base_url}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for()
    wait_idle(page)
    icon = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert icon and not _leaving(icon), icon
    assert len(urls) > 3 and _leaving(urls) == [], _leaving(urls)
