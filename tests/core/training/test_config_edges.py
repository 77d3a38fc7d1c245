"""Every range TrainConfig accepts, at both ends, and the exact message for what it refuses
(found by `make mutation`: the old tests tried one bad value per field)."""

import pytest

from mnist_core.models import zoo
from mnist_core.training.config import OPTIMIZERS, PRECISIONS, SCHEDULES, ConfigError, TrainConfig

# (field, values accepted at the edges, values refused just beyond them)
RANGES = [
    ("epochs", [1, 1000], [0, 1001, 2.0]),
    ("batch_size", [1, 60000], [0, 60001, 32.0]),
    ("lr", [1e-12, 10], [0, -1e-3, 10.000001]),
    ("dropout", [None, 0, 0.999], [1, -0.01]),
    ("train_subset", [None, 10], [9, 10.0]),
    ("rotation_deg", [0, 180], [-0.01, 180.01]),
    ("shift", [0, 0.999], [-0.01, 1]),
    ("zoom", [0, 0.999], [-0.01, 1]),
    ("beta_1", [1e-9, 0.999999], [0, 1]),
    ("elastic_alpha", [0, 100], [-0.01, 100.01]),
    ("elastic_sigma", [0.5, 20], [0.49, 20.01]),
    ("steps_per_execution", [1, 1000], [0, 1001, 1.0]),
    ("seed", [0, 2**40], [-1, 1.0]),
    ("optimizer", list(OPTIMIZERS), ["Adam", ""]),
    ("schedule", list(SCHEDULES), ["linear"]),
    ("precision", list(PRECISIONS), ["float16"]),
    ("model", list(zoo.MODELS), ["resnet"]),
]


@pytest.mark.parametrize("field, good, bad", RANGES, ids=[r[0] for r in RANGES])
def test_each_range_at_both_ends(field, good, bad):
    for value in good:
        assert TrainConfig(**{field: value}).validate()
    for value in bad:
        with pytest.raises(ConfigError):
            TrainConfig(**{field: value}).validate()


MESSAGES = [
    ("model", "resnet", f"unknown model 'resnet'; choose one of {', '.join(zoo.MODELS)}"),
    ("epochs", 0, "epochs must be an integer 1-1000, got 0"),
    ("batch_size", 0, "batch size must be an integer 1-60000, got 0"),
    ("lr", 0.0, "learning rate must be in (0, 10], got 0.0"),
    ("optimizer", "lbfgs", "optimizer must be one of adam, sgd, rmsprop, adamw, got 'lbfgs'"),
    ("schedule", "linear", "schedule must be one of constant, onecycle, cosine, exponential, got 'linear'"),
    ("dropout", 1.0, "dropout must be in [0, 1), got 1.0"),
    ("train_subset", 3, "train subset must be at least 10 images, got 3"),
    ("zoom", 1.0, "augmentation ranges: rotation 0-180 degrees, shift and zoom in [0, 1)"),
    ("beta_1", 1.0, "beta_1 must be in (0, 1), got 1.0"),
    ("elastic_sigma", 0.0, "elastic distortion: alpha 0-100 pixels (0 turns it off), sigma 0.5-20 pixels"),
    ("precision", "float16", "precision must be one of float32, mixed_bfloat16, got 'float16'"),
    ("steps_per_execution", 0, "steps per execution must be an integer 1-1000, got 0"),
    ("seed", -1, "seed must be a non-negative integer, got -1"),
]


@pytest.mark.parametrize("field, value, message", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_refusals_say_exactly_what_is_accepted(field, value, message):
    with pytest.raises(ConfigError) as caught:
        TrainConfig(**{field: value}).validate()
    assert str(caught.value) == message


def test_each_augmentation_range_is_checked_on_its_own():
    for bad in ({"rotation_deg": 181}, {"shift": 1.0}, {"zoom": 1.0}):
        with pytest.raises(ConfigError, match="augmentation ranges"):
            TrainConfig(**bad).validate()
    for bad in ({"elastic_alpha": 101}, {"elastic_sigma": 21}):
        with pytest.raises(ConfigError, match="elastic distortion"):
            TrainConfig(**bad).validate()


def test_a_valid_name_passes_and_validate_returns_the_config():
    config = TrainConfig(name="my-model_1")
    assert config.validate() is config


def test_for_model_refuses_an_unknown_model_and_skips_none_overrides():
    with pytest.raises(ConfigError) as caught:
        TrainConfig.for_model("resnet")
    assert str(caught.value) == f"unknown model 'resnet'; choose one of {', '.join(zoo.MODELS)}"
    recipe = zoo.MODELS["mlp"].recipe
    config = TrainConfig.for_model("mlp", epochs=None, lr=0.5)
    assert config.model == "mlp" and config.lr == 0.5
    assert config.epochs == recipe.get("epochs", TrainConfig.epochs)


def test_json_is_sorted_and_indented():
    text = TrainConfig(epochs=3).to_json()
    assert text.startswith('{\n  "augment": false,\n  "batch_norm": false,\n  "batch_size": 32,')
    assert TrainConfig.from_json(text) == TrainConfig(epochs=3)


def test_unknown_keys_are_named_with_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"model": "mlp", "epoch": 3, "zz": 1})
    known = sorted(f for f in TrainConfig.__dataclass_fields__)
    assert str(caught.value) == f"unknown config keys ['epoch', 'zz']; known keys are {known}"


def test_an_unknown_task_is_refused_by_name():
    from mnist_core.training.config import TASKS

    with pytest.raises(ConfigError) as caught:
        TrainConfig(task="runes").validate()
    assert str(caught.value) == f"task must be one of {', '.join(TASKS)}, got 'runes'"
