"""What the figures were measured on: CPU, cores, library versions, load average."""

from __future__ import annotations

import os
import platform


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = f"{names[0]}, {len(names)} cores" if names else cpu
    except OSError:
        pass
    import tensorflow as tf

    from mnist_core.training.loop import BF16_ENV, native_bfloat16

    bf16 = "native bfloat16" if native_bfloat16() else "no bfloat16 in hardware"
    if os.environ.get(BF16_ENV, "").strip().lower() not in ("", "auto"):
        bf16 = f"bfloat16 {'on' if native_bfloat16() else 'off'} by {BF16_ENV}, not the CPU"
    return f"{cpu} ({bf16}), TensorFlow {tf.__version__}, Python {platform.python_version()}"


def load() -> str:
    """The 1/5/15-minute load average: other work on the machine slows every figure."""
    return "/".join(f"{v:.1f}" for v in os.getloadavg())
