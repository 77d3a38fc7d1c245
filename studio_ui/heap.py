"""What every script run costs the whole server, once TensorFlow is loaded: kept small.

Streamlit ends every script run (each stroke on Draw, in every session) with a
full garbage collection and, when Keras is imported, `keras.backend.clear_session()`,
which collects again and empties TensorFlow's kernel cache. With TensorFlow
and a model loaded the heap holds about 365,000 objects: each collection took
0.35 s of one core here, holding the GIL against every other session, and the
emptied kernel cache made the next prediction 69 ms instead of 2 ms
(issue 29). `settle()` moves what is alive after a model loads (TensorFlow,
Keras, the model) out of the collector's sight with `gc.freeze()`, and leaves
Keras' session alone between runs: the studio builds no Keras model in a
script run (training runs in its own process), so there is nothing to clear.
"""

from __future__ import annotations

import gc
import sys

from streamlit.runtime.scriptrunner import script_runner


def _clean_problem_modules_but_keras() -> None:
    # Streamlit's own cleanup, less the Keras session: matplotlib figures still close after a run.
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def settle() -> None:
    """Call after a model loads: what is alive now is never collected again, and Keras' session survives runs."""
    script_runner._clean_problem_modules = _clean_problem_modules_but_keras
    gc.freeze()
