"""MNIST_STUDIO_BF16 decides bfloat16 detection on any CPU, so both precision paths can be run on one machine."""

import pytest

from mnist_core.training import loop
from mnist_core.training.config import ConfigError, TrainConfig


def _cpu_has_bf16() -> bool:
    with open("/proc/cpuinfo") as f:
        return bool({"avx512_bf16", "amx_bf16", "bf16"} & set(f.read().split()))


@pytest.mark.parametrize("value, expected", [("0", False), ("off", False), ("1", True), (" ON ", True)])
def test_the_switch_overrides_the_cpu(monkeypatch, value, expected):
    monkeypatch.setenv(loop.BF16_ENV, value)
    assert loop.native_bfloat16() is expected
    fast = TrainConfig.for_model("fast")  # asks for mixed_bfloat16
    assert loop.effective_precision(fast) == ("mixed_bfloat16" if expected else "float32")
    assert loop.effective_precision(TrainConfig.for_model("fast", precision="float32")) == "float32"


@pytest.mark.parametrize("value", ["", "auto"])
def test_unset_or_auto_reads_the_cpu(monkeypatch, value):
    monkeypatch.setenv(loop.BF16_ENV, value)
    assert loop.native_bfloat16() is _cpu_has_bf16()


def test_a_typo_is_an_error_not_a_guess(monkeypatch):
    monkeypatch.setenv(loop.BF16_ENV, "maybe")
    with pytest.raises(ConfigError, match=r"^MNIST_STUDIO_BF16='maybe': give 0"):
        loop.native_bfloat16()
