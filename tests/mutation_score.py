"""Per-module mutation score from mutmut's results in mutants/ (run after `mutmut run`; `make mutation` does both).

Killed counts what mutmut calls killed, timeout and caught by type check, and test runs ended by a signal;
survivors listed in tests/mutation_equivalents.md (one `mutant_name` per bullet) count as equivalent, not as killed.
Prints one markdown row per module and exits 1 when a module is under the target.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TARGET = 0.85
REPO = Path(__file__).resolve().parent.parent
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # mutmut's exit codes for killed, timeout, type check


def is_killed(code: int | None) -> bool:
    """A negative code is a test run ended by a signal (e.g. a mutant sending SIGHUP to the test process
    in `pid_alive`, or a segfault): the tests did not pass, so the mutant was caught."""
    return code in KILLED or (code is not None and code < 0)


def equivalents() -> set[str]:
    text = (REPO / "tests" / "mutation_equivalents.md").read_text()
    return set(re.findall(r"`(mnist_core\.[\w.]+__mutmut_\d+)`", text))


def scores(mutants: Path = REPO / "mutants") -> list[dict]:
    same = equivalents()
    rows = []
    for meta in sorted(mutants.glob("mnist_core/**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        killed = sum(is_killed(code) for code in codes.values())
        survivors = [name for name, code in codes.items() if not is_killed(code) and code is not None]
        equivalent = sum(name in same for name in survivors)
        unchecked = sum(code is None for code in codes.values())
        total = len(codes)
        live = total - equivalent
        rows.append({"module": str(meta.relative_to(mutants))[:-len(".meta")], "killed": killed, "total": total,
                     "equivalent": equivalent, "unchecked": unchecked,
                     "survivors": [name for name in survivors if name not in same],
                     "score": killed / live if live else 1.0})
    return rows


def main() -> int:
    rows = scores()
    if not rows:
        print("no results in mutants/: run `make mutation` first")
        return 1
    print("| module | killed / total | equivalent | score |")
    print("|---|---|---|---|")
    for r in rows:
        note = f" ({r['unchecked']} not run)" if r["unchecked"] else ""
        print(f"| {r['module']} | {r['killed']} / {r['total']} | {r['equivalent']} "
              f"| {100 * r['score']:.0f}%{note} |")
    for r in rows:
        for name in r["survivors"]:
            print("survived:", name)
    return 0 if all(r["score"] >= TARGET and not r["unchecked"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
