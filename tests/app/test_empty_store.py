"""Every page with an empty model store: a clear message, never an exception."""

import pytest

from .conftest import open_page, texts


@pytest.mark.parametrize("page", [None, "data", "train", "models", "inspect", "draw", "batch"])
def test_page_renders_without_models(empty_store, page):
    at = open_page(page)
    assert at.sidebar.info and "No saved models yet" in at.sidebar.info[0].value
    if page in ("inspect", "draw", "batch"):
        assert "There is no saved model" in texts(at)
    if page == "models":
        assert "The model store is empty" in texts(at)
    if page is None:
        assert "No saved models yet" in texts(at)


def test_a_corrupt_model_gets_a_message_not_a_traceback(store):
    broken = store / "broken"
    broken.mkdir()
    (broken / "card.json").write_text('{"name": "broken", "kind": "cnn", "test_accuracy": 0.5}')
    (broken / "model.keras").write_bytes(b"not a keras file")
    at = open_page()
    at.sidebar.selectbox[0].select("broken").run()
    for page in ("inspect", "draw", "batch"):
        open_page(page, at)
        if page == "batch":  # Batch loads the model only once there is something to read
            assert not at.error
            at.file_uploader(key="batch_files").set_value(("7_a.png", b"\x89PNG\r\n", "image/png")).run()
        assert any("cannot be used" in e.value for e in at.error), page
