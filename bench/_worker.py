"""One measurement in a fresh Python process, as a run started from the dashboard gets one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_fresh(script: str, spec: dict, env: dict | None = None, what: str = "") -> dict:
    """`python script --worker SPEC` in the repo; the JSON object its last line prints."""
    proc = subprocess.run([sys.executable, script, "--worker", json.dumps(spec)], capture_output=True, text=True,
                          cwd=REPO, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec}{what} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
