"""Keep native libraries' start-up chatter off the terminal.

TensorFlow's C++ code writes its start-up lines (the oneDNN notice, "All log
messages before absl::InitializeLog()") straight to file descriptor 2 before
any logging is set up, and TF_CPP_MIN_LOG_LEVEL does not reach them. So while
a command runs, descriptor 2 points at /dev/null and Python's sys.stderr
writes to a copy of the real one: errors, tracebacks, warnings and progress
bars still show; C and C++ writes do not (--verbose keeps them).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys


def _writes_to_fd2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False  # captured (tests) or replaced: there is no terminal to protect


@contextlib.contextmanager
def native_stderr_silenced():
    """Silence file descriptor 2 for the duration, keeping Python's sys.stderr on the terminal."""
    if not _writes_to_fd2(sys.stderr):
        yield
        return
    original = sys.stderr
    original.flush()
    saved = os.dup(2)
    sys.stderr = io.TextIOWrapper(io.FileIO(os.dup(saved), "w"), encoding=original.encoding,
                                  errors="backslashreplace", line_buffering=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr.close()
        sys.stderr = original
