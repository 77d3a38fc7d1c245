"""AppTest fixtures: a small model store made once per session, and a page opener.

`default` is a LeNet-5 trained for one epoch on 600 images (conv layers for
Inspect) and `flat` a NumPy softmax (no conv layers); both in a temporary
store, never the repo's models/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # the first run of a page that needs a model imports TensorFlow


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory) -> Path:
    from mnist_core.training import loop
    from mnist_core.training.config import TrainConfig

    root = tmp_path_factory.mktemp("app-models")
    loop.train(TrainConfig.for_model("lenet5", epochs=1, train_subset=600, name="default"), store_root=root)
    loop.train(TrainConfig.for_model("numpy_softmax", epochs=1, train_subset=600, name="flat"), store_root=root)
    return root


class _LiveServerPagesManager(PagesManager):
    """AppTest forgets before every run that st.navigation has run, so Streamlit would treat each run
    like the first request to a fresh server (pages/ scanned, the page run without app.py, and the
    router guard's rerun dropping a button click). A live server forgets nothing after its first
    request; tests/browser checks that first request for real, test_routing.py in AppTest."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def live_server_routing(request, monkeypatch):
    if "fresh_server" not in request.keywords:
        monkeypatch.setattr(app_test_module, "PagesManager", _LiveServerPagesManager)


@pytest.fixture
def store(trained_store, tmp_path, monkeypatch) -> Path:
    """A private copy of the trained store (tests may delete from it) and an empty runs folder."""
    root = tmp_path / "models"
    shutil.copytree(trained_store, root)
    monkeypatch.setenv("MNIST_STUDIO_MODELS", str(root))
    monkeypatch.setenv("MNIST_STUDIO_RUNS", str(tmp_path / "runs"))
    return root


@pytest.fixture
def empty_store(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "empty-models"
    monkeypatch.setenv("MNIST_STUDIO_MODELS", str(root))
    monkeypatch.setenv("MNIST_STUDIO_RUNS", str(tmp_path / "runs"))
    return root


def open_page(page: str | None = None, at: AppTest | None = None) -> AppTest:
    """Run the router (app.py), then switch to pages/<page>.py; fails on any exception."""
    if at is None:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
        assert_clean(at)
    if page:
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    """Everything written as markdown, captions, alerts and metrics, for `in` checks."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [a.value for kind in ("info", "warning", "error", "success") for a in getattr(at, kind)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def frame_with(at: AppTest, column: str):
    """The first dataframe or table that has `column` (AppTest does not keep dataframe keys)."""
    for frame in [*at.dataframe, *at.table]:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no dataframe with a '{column}' column")
