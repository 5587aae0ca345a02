"""SVG snapshots of the main screens at 80×24 and at a wide size (pytest-textual-snapshot).

After an intended change to the layout: `python -m pytest tests/test_tui_snapshots.py --snapshot-update`,
then look at the new SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dl_course import service
from dl_course.tui.app import CourseApp

from conftest import make_pack

pytest.importorskip("pytest_textual_snapshot")

SIZES = {"small": (80, 24), "wide": (140, 40)}


@pytest.fixture
def app(tmp_path: Path, monkeypatch) -> CourseApp:
    # The map names the workspace from the home folder (~/work): the same in every run.
    monkeypatch.setenv("HOME", str(tmp_path))
    pack = make_pack(tmp_path / "pack")
    work = tmp_path / "work"
    work.mkdir()
    service.start("chapter9", str(pack), cwd=work)
    return CourseApp(service.open_course(str(pack), cwd=work), warm=False)


@pytest.mark.parametrize("size", SIZES)
def test_map(snap_compare, app, size):
    assert snap_compare(app, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_reader(snap_compare, app, size):
    assert snap_compare(app, press=["enter", "n"], terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_exercise(snap_compare, app, size):
    assert snap_compare(app, press=["down", "enter"], terminal_size=SIZES[size])


def test_help(snap_compare, app):
    assert snap_compare(app, press=["question_mark"], terminal_size=SIZES["small"])
