"""The performance knobs: precision, steps_per_execution, beta_1, elastic; and the fast/best zoo models."""

import numpy as np
import pytest

from mnist_core.training import rundir, loop

from mnist_core.models import loading, zoo
from mnist_core.training.config import ConfigError, TrainConfig


def test_new_fields_round_trip_and_old_configs_still_load(tmp_path):
    c = TrainConfig.for_model("best", seed=3, steps_per_execution=4, elastic_alpha=20.0)
    assert (c.precision, c.elastic_alpha, c.batch_norm, c.augment) == ("mixed_bfloat16", 20.0, True, True)
    c.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == c
    old = {k: v for k, v in c.to_dict().items()
           if k not in ("beta_1", "elastic_alpha", "elastic_sigma", "precision", "steps_per_execution")}
    assert TrainConfig.from_dict(old).precision == "float32"


@pytest.mark.parametrize("field, value, needle", [
    ("precision", "float16", "precision"), ("steps_per_execution", 0, "steps per execution"),
    ("beta_1", 1.0, "beta_1"), ("elastic_alpha", -1.0, "elastic"), ("elastic_sigma", 0.0, "elastic"),
])
def test_new_fields_are_validated(field, value, needle):
    with pytest.raises(ConfigError, match=needle):
        TrainConfig(**{field: value}).validate()


def test_fast_recipe():
    c = TrainConfig.for_model("fast")
    assert (c.epochs, c.batch_size, c.schedule, c.beta_1, c.precision, c.steps_per_execution, c.label_smoothing) == \
        (2, 256, "onecycle", 0.7, "mixed_bfloat16", 4, 0.1)
    net = zoo.build(c)
    assert net.count_params() == 72_010 and "72,010" in zoo.MODELS["fast"].description
    assert net.layers[-1].dtype_policy.name == "float32"
    assert type(net.layers[1]).__name__ == "Cropping2D" and net.layers[1].output.shape[1:3] == (24, 24)
    conv1 = net.layers[2]  # the stride-2 stem (2026-12-07; space-to-depth before)
    assert (type(conv1).__name__, conv1.strides, conv1.kernel_size) == ("Conv2D", (2, 2), (5, 5))
    assert (conv1.name, conv1.trainable, c.extra["whiten"]) == ("stem", False, "frozen")  # set from the data
    assert "frozen whitening conv" in zoo.MODELS["fast"].description
    assert conv1.output.shape[1:] == (10, 10, 16) and "MaxPooling2D" not in type(net.layers[3]).__name__
    assert net.layers[-2].units == 128
    s2d = zoo.build(TrainConfig.for_model("fast", extra={"crop": 2, "stem": "s2d"}))
    assert s2d.count_params() == 141_730  # the recipe until 2026-12-07
    assert s2d.layers[4].output.shape[1:] == (12, 12, 4)  # space-to-depth
    public = zoo.build(TrainConfig.for_model("fast", extra={}))
    assert public.count_params() == 215_194  # the public recipe's network (no crop)
    narrow = zoo.build(TrainConfig.for_model("fast", extra={"crop": 2, "widths": [16, 32, 128]}))
    assert narrow.count_params() == 72_010  # the conv stem, as it was measured


def test_fast_stems_shapes_and_unknown_stem():
    shapes = {}
    for stem in zoo.STEMS:
        net = zoo.build(TrainConfig.for_model("fast", extra={"crop": 2, "stem": stem}))
        shapes[stem] = [tuple(layer.output.shape[1:]) for layer in net.layers if type(layer).__name__ == "Conv2D"]
    assert shapes == {"conv": [(20, 20, 24), (8, 8, 32)], "stride2": [(10, 10, 24), (8, 8, 32)],
                      "s2d": [(10, 10, 24), (8, 8, 32)]}
    with pytest.raises(ValueError, match="stem must be one of conv, stride2, s2d"):
        zoo.build(TrainConfig.for_model("fast", extra={"stem": "pixel"}))


def test_space_to_depth_stem_is_tensorflows_and_saves_without_custom_code(tmp_path):
    import keras
    import tensorflow as tf

    net = zoo.build(TrainConfig.for_model("fast", extra={"crop": 2, "stem": "s2d"}))
    s2d = keras.Model(net.inputs, net.layers[4].output)  # crop, reshape, permute, reshape
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(s2d(x), tf.nn.space_to_depth(x[:, 2:26, 2:26], 2))
    net.save(tmp_path / "s2d.keras")
    again = keras.saving.load_model(tmp_path / "s2d.keras")  # safe mode: no Lambda, no custom layer
    np.testing.assert_allclose(again(x), net(x), atol=1e-6)


def test_best_has_batch_norm_and_dropout():
    net = zoo.build(TrainConfig.for_model("best"))
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds.count("Conv2D") == 7 and kinds.count("BatchNormalization") == 7 and "Dropout" in kinds
    assert f"{net.count_params():,}" in zoo.MODELS["best"].description


def test_mixed_precision_trains_and_saves_a_float32_model(tiny_splits, store_root, runs_root, monkeypatch):
    monkeypatch.setattr(loop, "native_bfloat16", lambda: True)  # exercise the mixed path on any CPU
    config = TrainConfig.for_model("fast", epochs=2, batch_size=50, precision="mixed_bfloat16", name="mixed")
    card = loop.train(config, splits=tiny_splits)
    assert card["test_accuracy"] > 0.5
    loaded = loading.load("mixed")
    assert {layer.dtype_policy.name for layer in loaded.net.layers} == {"float32"}
    assert loaded.card["config"]["precision"] == "mixed_bfloat16" and loaded.card["precision"] == "mixed_bfloat16"
    import keras

    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_steps_per_execution_keeps_events_consistent(tiny_splits, store_root, runs_root):
    # 50 batches an epoch: enough that the 3 batches per step call are kept (loop.steps_per_call)
    config = TrainConfig.for_model("fast", epochs=2, batch_size=10, steps_per_execution=3, name="spe")
    assert loop.steps_per_call(3, 50) == 3
    run = rundir.RunDir.create(config)
    loop.train(config, run, splits=tiny_splits)
    batches = run.events("batch")
    steps = [b["global_step"] for b in batches]
    assert steps == sorted(steps) and steps[-1] == 100 and all(b["step"] <= 50 for b in batches)
    assert [e["epoch"] for e in run.events("epoch")] == [1, 2]


def test_augmented_runs_repeat_exactly(tiny_splits, store_root):
    config = TrainConfig.for_model("fast", epochs=1, batch_size=50, augment=True, elastic_alpha=20, seed=5)
    a = loop.train(config, splits=tiny_splits, save=False)
    b = loop.train(config, splits=tiny_splits, save=False)
    assert a["history"] == b["history"]
    c = loop.train(TrainConfig.for_model("fast", epochs=1, batch_size=50, augment=True, elastic_alpha=20, seed=6),
                       splits=tiny_splits, save=False)
    assert c["history"] != a["history"]


def test_beta_1_reaches_the_optimizer():
    opt = loop._optimizer(TrainConfig.for_model("fast"), 100)
    assert float(np.asarray(opt.beta_1)) == pytest.approx(0.7)


def test_bfloat16_falls_back_to_float32_without_native_support(tiny_splits, store_root, monkeypatch):
    monkeypatch.setattr(loop, "native_bfloat16", lambda: False)
    config = TrainConfig.for_model("fast", epochs=1, batch_size=50, precision="mixed_bfloat16")
    assert loop.effective_precision(config) == "float32"
    card = loop.train(config, splits=tiny_splits, save=False)
    assert card["precision"] == "float32" and card["config"]["precision"] == "mixed_bfloat16"
    monkeypatch.setattr(loop, "native_bfloat16", lambda: True)
    assert loop.effective_precision(config) == "mixed_bfloat16"
    assert loop.effective_precision(TrainConfig.for_model("fast", precision="float32")) == "float32"


@pytest.mark.parametrize("field, value, needle", [
    ("ema_momentum", 0.5, "weight averaging"), ("ema_momentum", 1.0, "weight averaging"),
    ("validation", -1, "validation must be"), ("validation", 30001, "validation must be"),
])
def test_averaging_and_validation_size_are_validated(field, value, needle):
    with pytest.raises(ConfigError, match=needle):
        TrainConfig(**{field: value}).validate()
    ok = {"ema_momentum": 0.999, "validation": 0}[field]
    assert getattr(TrainConfig(**{field: ok}).validate(), field) == ok


def test_weight_averaging_saves_the_average_and_leaves_training_alone(tiny_splits, store_root):
    def run(ema):
        name = f"ema-{int(ema * 10)}"
        config = TrainConfig.for_model("mlp", epochs=2, batch_size=50, seed=4, ema_momentum=ema, name=name)
        return loop.train(config, splits=tiny_splits), loading.load(name).net

    plain, plain_net = run(0.0)
    averaged, averaged_net = run(0.9)
    assert averaged["history"]["loss"] == plain["history"]["loss"]  # the average never feeds back
    assert not all(np.array_equal(a, b) for a, b in zip(plain_net.get_weights(), averaged_net.get_weights()))


def test_validation_zero_trains_on_every_training_image():
    from mnist_core.data.mnist import Mnist, make_splits

    raw = Mnist(np.zeros((60, 28, 28), np.uint8), np.arange(60) % 10, np.zeros((5, 28, 28), np.uint8),
                np.arange(5), source="test", sha256="0")
    splits = make_splits(raw, 0)
    assert (len(splits.x_train), len(splits.x_val), len(splits.x_test)) == (60, 0, 5)
    assert len(make_splits(raw, 10).x_train) == 50
