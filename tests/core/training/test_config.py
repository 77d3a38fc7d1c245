import pytest

from mnist_core.training.config import ConfigError, TrainConfig


def test_json_round_trip(tmp_path):
    c = TrainConfig.for_model("mlp", epochs=3, dropout=0.2, augment=True, extra={"hidden": [32]})
    c.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == c


def test_recipe_then_overrides():
    c = TrainConfig.for_model("cnn", lr=0.01)
    assert (c.batch_size, c.epochs, c.lr) == (32, 10, 0.01)


@pytest.mark.parametrize("field, value, needle", [
    ("model", "resnet", "unknown model"), ("epochs", 0, "epochs"), ("batch_size", -1, "batch size"),
    ("lr", 0.0, "learning rate"), ("optimizer", "lbfgs", "optimizer"), ("dropout", 1.0, "dropout"),
    ("train_subset", 3, "subset"), ("name", "Bad Name!", "invalid model name"), ("seed", -2, "seed"),
])
def test_invalid_values_give_clear_messages(field, value, needle):
    c = TrainConfig(**{field: value})
    with pytest.raises(ConfigError, match=needle):
        c.validate()


def test_unknown_keys_rejected():
    with pytest.raises(ConfigError, match="unknown config keys"):
        TrainConfig.from_dict({"model": "mlp", "epoch": 3})
