"""Promote on the Sweeps and Models pages (issue 23 item 1): the candidate beside the current model, a
confirmation, a warning for a worse one, and the replaced default kept and restorable."""

from mnist_core.models import store as model_store

from .conftest import frame_with, open_page, texts
from .test_sweeps import _sweep_dir


def _set_default_validation(accuracy: float) -> None:
    """Give the session's default a known last-epoch validation accuracy (its weights stay the same)."""
    card = model_store.read_card("default")
    history = {**(card.get("history") or {}), "val_accuracy": [accuracy], "val_loss": [0.01]}
    model_store.copy("default", "default-copy", {"history": history, "test_accuracy": accuracy})
    model_store.delete("default")
    model_store.copy("default-copy", "default")
    model_store.delete("default-copy")


def test_sweeps_promote_compares_asks_and_warns_before_replacing_the_default(store):
    _set_default_validation(0.9971)
    run, names = _sweep_dir()  # the best trial's validation accuracy: 90%
    at = open_page("sweeps")
    comparison = frame_with(at, "validation accuracy")
    assert list(comparison.index) == [f"{names[0]} (candidate)", "default (current)", "difference"]
    assert list(comparison["validation accuracy"]) == ["90.00%", "99.71%", "-9.71 points"]
    assert any("reads worse" in w.value for w in at.warning)

    assert at.button(key="sw_promote").disabled  # not confirmed: no click can promote
    assert model_store.read_card("default").get("promoted_from") is None

    sure = at.checkbox(key=f"sw_promote_sure_{names[0]}")
    assert "although it reads worse" in sure.label
    sure.check().run()
    at.button(key="sw_promote").click().run()
    assert not at.exception
    assert model_store.read_card("default")["promoted_from"] == names[0]
    assert model_store.read_card("default")["selection"]["forced"] is True
    assert model_store.read_card("default-previous")["test_accuracy"] == 0.9971
    assert "kept as `default-previous`" in texts(at)


def test_models_page_promotes_a_picked_model_and_restores_the_previous_default(store):
    _set_default_validation(0.5)
    at = open_page("models")
    at.selectbox(key="models_pick").select("flat").run()
    comparison = frame_with(at, "validation accuracy")
    assert list(comparison.index) == ["flat (candidate)", "default (current)", "difference"]
    assert not any("reads worse" in w.value for w in at.warning)
    at.checkbox(key="models_promote_sure_flat").check().run()
    at.button(key="models_promote").click().run()
    assert not at.exception
    assert model_store.read_card("default")["promoted_from"] == "flat"
    assert "kept as `default-previous`" in texts(at)

    at.selectbox(key="models_pick").select("default").run()
    assert "Restore `default`" in texts(at) and "'flat' was promoted" in texts(at)
    assert at.button(key="models_restore").disabled  # not confirmed: no click can restore
    at.checkbox(key="models_restore_sure").check().run()
    at.button(key="models_restore").click().run()
    assert not at.exception
    card = model_store.read_card("default")
    assert card.get("promoted_from") is None and card["test_accuracy"] == 0.5
    assert "still saved as 'flat'" in texts(at)
