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


def test_a_visitor_is_kept_from_exactly_the_pages_the_registry_marks_editor_only():
    from mnist_core import access
    from studio_ui import gate

    marked = {page.url_path for page in registry.all_pages() if page.editor_only}
    assert marked == {"train", "sweeps"}
    kept = gate.for_role(registry.SECTIONS, access.VISITOR)
    assert {p.url_path for p in registry.all_pages()} - {p.url_path for s in kept.values() for p in s} == marked
    with access.acting_as(access.VISITOR):
        assert {p.url_path for p in registry.all_pages() if not gate.can_open(p.path)} == marked
        assert not gate.can_open(str(REPO / "pages" / "train.py"))  # a page's own __file__ reads the same
    assert gate.for_role(registry.SECTIONS, access.EDITOR) == registry.SECTIONS
