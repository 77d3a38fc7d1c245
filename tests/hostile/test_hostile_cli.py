"""The hostile corpus through the CLI: no crash, and a clear reason for every file not read."""

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.hostile.make_corpus import READ, SKIPPED


def cli(env, *args):
    proc = subprocess.run([sys.executable, "-m", "mnist_core", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.mark.parametrize("source", ["corpus", "corpus.zip", "bomb.zip"])
def test_evaluate_accounts_for_every_entry(corpus, cli_env, source):
    root, expected = corpus
    proc = cli(cli_env, "evaluate", "--images", str(root / source), "--model", "templates", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {"accuracy", "n", "correct", "skipped", "predictions"} <= set(report)
    read = {p["file"]: p for p in report["predictions"]}
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}
    assert not set(read) & set(skipped)
    assert set(read) | set(skipped) == set(expected[source]), "every entry is either read or skipped"
    for name, (outcome, detail) in expected[source].items():
        if outcome == READ:
            assert read[name]["label"] == detail
            assert set(read[name]) >= {"file", "label", "prediction", "confidence"}
            if detail is not None:  # odd formats (CMYK, 16-bit, palette, EXIF, GIF) must still read right
                assert read[name]["prediction"] == detail, name
        else:
            assert outcome == SKIPPED and re.search(detail, skipped[name], re.I), (name, skipped[name])
    assert all(len(reason) > 10 for reason in skipped.values())
    assert report["n"] == sum(p["label"] is not None for p in report["predictions"])


def test_zip_paths_cannot_escape(corpus, cli_env, tmp_path):
    root, _ = corpus
    proc = cli({**cli_env, "HOME": str(tmp_path)}, "evaluate", "--images", str(root / "corpus.zip"),
               "--model", "templates")
    assert proc.returncode == 0
    assert "unsafe path" in proc.stdout and "accuracy" in proc.stdout
    assert not list(root.parent.rglob("escape*.png")) and not list(REPO.rglob("escape*.png"))
    assert not (REPO / "abs").exists() and not list(tmp_path.iterdir())


def test_predict_gives_a_number_or_a_reason_per_file(corpus, cli_env):
    root, expected = corpus
    files = sorted(p for p in (root / "corpus").rglob("*") if p.is_file() and ".hidden" not in p.parts)
    proc = cli(cli_env, "predict", *map(str, files), "--model", "templates", "--json")
    assert proc.returncode == 1  # some files are unreadable on purpose
    results = json.loads(proc.stdout)
    assert [r["file"] for r in results] == list(map(str, files))
    for path, r in zip(files, results):
        name = path.relative_to(root / "corpus").as_posix()
        outcome, detail = expected["corpus"][name]
        if outcome == READ:
            assert r["error"] is None and r["number"], (name, r)
            if detail is not None:
                assert r["number"] == str(detail), name
        elif name.endswith((".png", ".jpg", ".gif")):
            assert r["number"] is None and len(r["error"]) > 10, (name, r)
    plain = cli(cli_env, "predict", *map(str, files), "--model", "templates")
    assert plain.returncode == 1 and len(plain.stdout.strip().splitlines()) == len(files)


def test_missing_path_is_an_error_not_a_crash(cli_env, tmp_path):
    proc = cli(cli_env, "evaluate", "--images", str(tmp_path / "nowhere"), "--model", "templates")
    assert proc.returncode == 2 and "no such file" in proc.stderr
