"""End to end over the whole built-in course (slow: run with `python -m pytest -m slow`)."""

from __future__ import annotations

import shutil

import pytest

from conftest import BUILTIN, Cli, by_id
from dl_course.course import load_pack

pytestmark = pytest.mark.slow


def test_every_chapter_fails_on_stubs_and_passes_with_the_references(tmp_path):
    pack = load_pack(BUILTIN)
    cli = Cli(tmp_path, None)
    for chapter in pack.chapters:
        proc = cli("start", chapter.id)
        assert proc.returncode == 0, proc.stderr
    code, report = cli.json("check", "--device", "cpu", timeout=1200)
    results = by_id(report)
    assert code == 1
    assert set(results) == set(pack.exercises)
    for exercise_id, result in results.items():
        assert not result["passed"], exercise_id
        failing = [c for c in result["checks"] if c["status"] == "failed"]
        assert failing and failing[0]["message"], exercise_id

    for exercise in pack.exercises.values():
        chapter = pack.chapter_of(exercise)
        shutil.copy(exercise.solution, tmp_path / chapter.folder / exercise.file)
    code, report = cli.json("check", "--device", "cpu", timeout=1200)
    failed = {k: v for k, v in by_id(report).items() if not v["passed"]}
    assert code == 0, failed
    assert "exercises passed" in cli("progress").stdout
