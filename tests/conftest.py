"""Fixtures that drive the real `dl-course` command in temporary workspaces.

Most tests use a small pack built from the built-in one: chapter 9 with `subsequent_mask` and,
where a test asks, clones of it under other ids (so one `dl-course check` grades many files in
one judge run). Tests marked `slow` use the whole built-in course.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dl_course.course import builtin_pack_root

BUILTIN = builtin_pack_root()
EXE = shutil.which("dl-course") or pytest.fail("dl-course is not installed: pip install -e .")


def make_pack(root: Path, clones: dict[str, dict] | None = None) -> Path:
    """A pack with chapter 9 holding `subsequent_mask` plus clones of it.

    `clones` maps a new exercise id to overrides of its exercise.toml fields (e.g. time_limit_s).
    """
    for part in ("curriculum", "exercises", "solutions", "grader"):
        (root / part / "chapter09").mkdir(parents=True)
    src_cur = BUILTIN / "curriculum" / "chapter09"
    for f in src_cur.iterdir():
        shutil.copy(f, root / "curriculum" / "chapter09" / f.name)
    ids = ["subsequent_mask", *(clones or {})]
    manifest = root / "curriculum" / "chapter09" / "chapter.toml"
    text = manifest.read_text()
    text = re.sub(r"^exercises = .*$", "exercises = [" + ", ".join(f'"{i}"' for i in ids) + "]", text, flags=re.M)
    manifest.write_text(text)
    base = "subsequent_mask"
    for ex_id in ids:
        overrides = (clones or {}).get(ex_id, {})
        ex_dir = root / "exercises" / "chapter09" / ex_id
        shutil.copytree(BUILTIN / "exercises" / "chapter09" / base, ex_dir)
        toml = (ex_dir / "exercise.toml").read_text()
        toml = toml.replace(f'id = "{base}"', f'id = "{ex_id}"').replace(f'file = "{base}.py"', f'file = "{ex_id}.py"')
        for key, value in overrides.items():
            toml = re.sub(rf"^{key} = .*$", f"{key} = {json.dumps(value)}", toml, flags=re.M)
        (ex_dir / "exercise.toml").write_text(toml)
        shutil.copy(BUILTIN / "solutions" / "chapter09" / f"{base}.py", root / "solutions" / "chapter09" / f"{ex_id}.py")
        g = root / "grader" / "chapter09" / ex_id
        shutil.copytree(BUILTIN / "grader" / "chapter09" / base, g)
        (g / f"test_{base}.py").rename(g / f"test_{ex_id}.py")
    return root


class Cli:
    """Runs the installed `dl-course` in a folder, with a given pack."""

    def __init__(self, cwd: Path, pack: Path | None):
        self.cwd, self.pack = cwd, pack

    def __call__(self, *args: str, cwd: Path | None = None, timeout: float = 300,
                 input: str | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "DL_COURSE_PACK"}
        env["COLUMNS"] = "120"
        if self.pack is not None:
            env["DL_COURSE_PACK"] = str(self.pack)
        return subprocess.run([EXE, *args], cwd=cwd or self.cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, input=input)

    def json(self, *args: str, **kw) -> tuple[int, dict]:
        proc = self(*args, "--json", **kw)
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"not JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from None


@pytest.fixture
def small_pack(tmp_path: Path) -> Path:
    return make_pack(tmp_path / "pack")


@pytest.fixture
def cli(tmp_path: Path, small_pack: Path) -> Cli:
    ws = tmp_path / "work"
    ws.mkdir()
    return Cli(ws, small_pack)


def by_id(report: dict) -> dict[str, dict]:
    return {r["exercise"]: r for r in report["results"]}


def reference_source(exercise_id: str = "subsequent_mask", chapter: str = "chapter09") -> str:
    return (BUILTIN / "solutions" / chapter / f"{exercise_id}.py").read_text()


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable


def started(ws: Path, chapter: str, pack: Path | None = None) -> Cli:
    """A fresh workspace folder with `chapter` started (the built-in course unless `pack`)."""
    ws.mkdir(parents=True)
    cli = Cli(ws, pack)
    proc = cli("start", chapter, "--no-tui")
    assert proc.returncode == 0, proc.stderr
    return cli


def grade_files(cli: Cli, folder: str, **sources: str | None) -> dict[str, dict]:
    """Write each exercise's source into the workspace's `folder` (None leaves the file as it
    is), check them in one run, and return the results by exercise id."""
    for exercise, source in sources.items():
        if source is not None:
            (cli.cwd / folder / f"{exercise}.py").write_text(source)
    _, report = cli.json("check", *sources)
    return by_id(report)


def failed_checks(result: dict) -> list[str]:
    return [f"{c['name']}: {c.get('message')}" for c in result["checks"] if c["status"] == "failed"]

