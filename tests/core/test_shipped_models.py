"""The models the repo ships: what their cards claim is what they do on the MNIST test set."""

import pytest

from mnist_core.analysis import evaluate

from mnist_core.models import loading, selection, store
from mnist_core.data.mnist import load_splits
from tests.conftest import REPO

pytestmark = pytest.mark.slow
MODELS = REPO / "models"


@pytest.fixture(scope="module")
def splits():
    return load_splits()


def test_default_is_a_fixed_best_recipe_trained_on_all_training_images(splits):
    card = store.read_card("default", MODELS)
    assert card["kind"] == "best" and card["config"]["model"] == "best"
    config = card["config"]
    assert config["validation"] == 0  # nothing held back, so nothing to select by
    # all 60,000 MNIST training images, plus what the card says it mixed in (its real sources keep people apart)
    sources = card["data_sources"]
    assert sources[0] == {"source": "mnist", "images": 60_000}
    assert card["train_size"] == sum(s["images"] for s in sources)
    assert {s["source"] for s in sources} == {"mnist", "scan-styles", "uji", "optdigits"}
    assert next(s for s in sources if s["source"] == "uji")["held_out_people"] == 18
    assert config["ema_momentum"] > 0 and config["elastic_alpha"] > 0 and config["init_from"] == "default"
    assert card["selection"]["rule"] == selection.SINGLE and card["selection"]["candidates"] == [
        {"name": card["promoted_from"]}]
    report = evaluate.evaluate_model(loading.load("default", MODELS), splits.x_test, splits.y_test, mistakes_limit=0)
    assert report["correct"] == round(card["test_accuracy"] * 10_000)
    assert report["accuracy"] >= 0.9965


def test_the_shipped_ensemble_beats_99_75(splits):
    model = loading.load("best-ensemble", MODELS)
    assert len(model.members) >= 2 and all(m.card["kind"] == "best" for m in model.members)
    report = evaluate.evaluate_model(model, splits.x_test, splits.y_test, mistakes_limit=0)
    assert report["correct"] == round(model.card["test_accuracy"] * 10_000)
    assert report["accuracy"] >= 0.9975
