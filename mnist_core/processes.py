"""Worker processes that never run the parent's main script.

Python's spawn and forkserver start methods run the parent's `__main__` script again in each new
worker (as `__mp_main__`), so that functions defined in it can be unpickled there. In the dashboard
`__main__` is the script Streamlit runs (`app.py`: it sets sys.modules["__main__"] on every rerun); in
the test suite it can be an AppTest script. A worker would run the app before its first task (0.3-0.4 s
more for the first batch), or die on a script that cannot run alone, and a multiprocessing.Pool whose
workers die at start replaces them forever: the suite hung on exactly that. Every pool here runs
mnist_core functions, pickled by module path, so its workers need no main script at all.
"""

from __future__ import annotations

import multiprocessing
import sys
import types
from contextlib import contextmanager

# What the forkserver imports once, so that each worker it forks starts with them (it used to get this
# by running the main script, which imported them; in the dashboard that meant running a page).
PRELOAD = ("mnist_core.handwriting.reading", "mnist_core.data.capture")


def forkserver_context():
    """The forkserver start method, its server preloading PRELOAD; ValueError where there is none (Windows)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))  # read when the server starts: the first worker started
    return ctx


@contextmanager
def no_main_script():
    """Start worker processes inside this block: they get a bare `__main__`, with nothing to re-run."""
    main = sys.modules.get("__main__")
    bare = types.ModuleType("__main__")  # neither __file__ nor __spec__: multiprocessing leaves main alone
    sys.modules["__main__"] = bare
    try:
        yield
    finally:
        if sys.modules.get("__main__") is bare:  # else another thread (a Streamlit rerun) has set its own since
            sys.modules["__main__"] = main
