"""Every built-in exercise's suite catches the mutants of its reference (slow: `python -m pytest -m slow`).

The issue's bar: a mutation score of at least 95% everywhere, and every surviving mutant declared
equivalent with a reason in its exercise.toml (so `author mutants` exits 0).
"""

from __future__ import annotations

import pytest

from conftest import Cli

pytestmark = pytest.mark.slow


def test_every_exercise_catches_its_mutants(tmp_path, monkeypatch):
    from dl_course.course import load_pack

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # grade every mutant, not the cache
    ids = list(load_pack(None).exercises)
    code, report = Cli(tmp_path, None).json("author", "mutants", *ids, timeout=3600)
    problems = {ex["exercise"]: ex["problems"] for ex in report["exercises"] if ex["problems"]}
    assert not problems, problems
    low = {ex["exercise"]: ex["score"] for ex in report["exercises"] if ex["score"] is not None and ex["score"] < 0.95}
    assert not low, low
    assert code == 0
