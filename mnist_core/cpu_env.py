"""TensorFlow settings that must be in the environment before TensorFlow is imported: oneDNN.

TensorFlow turns its oneDNN kernels on by default only on x86 CPUs it knows
to gain from them (AVX-512 VNNI, bfloat16 or AMX, such as the Xeon these
figures come from); on the others, such as the 2-core AMD EPYC without
AVX-512, it leaves them off. With them, `fast` trained in 1/1.8 of the time,
`best` in 1/1.3 and a canvas reading took 1/1.3 here, at the same accuracy
(bench/onednn.py, README "oneDNN on and off"), and the EPYC's `fast` took
14.8 s against 18.2 s (issue 24), so the project's own entry points (the CLI
and every run or sweep process it starts, the dashboard, Ray workers) ask for them.
A user's own TF_ENABLE_ONEDNN_OPTS (0 to compare, or to rule out oneDNN's
rounding) always wins. Setting it after TensorFlow is imported changes nothing.
"""

from __future__ import annotations

import os

ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
ONEDNN_DEFAULT = "1"


def tensorflow_env() -> dict:
    """The variables a process that will run TensorFlow should start with (for a Ray runtime_env)."""
    return {ONEDNN_ENV: os.environ.get(ONEDNN_ENV) or ONEDNN_DEFAULT}


def prefer_onednn(env=None) -> None:
    """oneDNN on in this process (and the children it starts), unless the environment already says."""
    env = os.environ if env is None else env
    if not env.get(ONEDNN_ENV, "").strip():
        env[ONEDNN_ENV] = ONEDNN_DEFAULT
