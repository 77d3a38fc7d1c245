"""The page registry is the one list of pages: every script in pages/ is in it once, under its file name."""

from pathlib import Path

from studio_ui import registry

from .conftest import REPO


def test_every_page_script_is_registered_once():
    scripts = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "pages").glob("*.py"))
    registered = [page.path for page in registry.all_pages()]
    assert sorted(registered) == scripts and len(set(registered)) == len(registered)
    assert len({page.title for page in registry.all_pages()}) == len(registered)
    assert all(page.blurb and page.icon.startswith(":material/") for page in registry.all_pages())
    assert registry.HOME.url_path == "home" and Path(registry.HOME.path).name == "home.py"
