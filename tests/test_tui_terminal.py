"""The real `dl-course` in a real pseudo-terminal (tmux): keys in, screen read back."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import EXE, reference_source

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Terminal:
    """One tmux session of a given size running one command."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], size=(100, 30)):
        self.name = f"dlc-{uuid.uuid4().hex[:8]}"
        # A private server (-L), so the test never touches the person's own tmux sessions.
        self.base = [TMUX, "-L", self.name, "-f", os.devnull]
        exports = " ".join(f"{k}={v!s}" for k, v in env.items())
        line = f"cd {cwd} && env {exports} {' '.join(command)}; sleep 30"
        subprocess.run([*self.base, "new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]),
                        line], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-t", self.name, "-p"], check=True,
                              capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def test_start_opens_the_tui_and_grades(tmp_path: Path, small_pack: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = {"DL_COURSE_PACK": str(small_pack), "TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "HOME": str(tmp_path)}
    term = Terminal([EXE, "start", "chapter9"], work, env)
    try:
        # `start` scaffolds, then opens the reader at chapter 9.
        term.wait_for("Chapter 9 · 1/")
        assert (work / "chapter09" / "subsequent_mask.py").exists()
        term.keys("Escape")
        shown = term.wait_for("The target (subsequent) mask")
        assert "Chapter 9" in shown, shown
        # Down to the exercise (chapter row, then its first exercise) and open it.
        term.keys("Down", "Enter")
        term.wait_for("Your file: chapter09/subsequent_mask.py")
        term.keys("c")
        term.wait_for("not yet")
        shown = term.wait_for("Your file imports")
        assert "not written yet" in shown or "NotImplementedError" in shown, shown
        (work / "chapter09" / "subsequent_mask.py").write_text(reference_source())
        term.keys("c")
        term.wait_for("✓ passed")
        term.keys("q")  # back to the shell's screen, with what `start` printed
        term.wait_for("Next: read the lesson", timeout=10)
    finally:
        term.close()


def test_no_arguments_without_a_terminal_prints_help(tmp_path: Path) -> None:
    proc = subprocess.run([EXE], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "Usage" in proc.stdout and "start" in proc.stdout


def test_edit_suspends_for_the_editor_then_checks(tmp_path: Path, small_pack: Path) -> None:
    """`e` hands the terminal to $EDITOR (here a script that writes the reference), then checks."""
    work = tmp_path / "work"
    work.mkdir()
    reference = tmp_path / "reference.py"
    reference.write_text(reference_source())
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\necho editing \"$1\"\ncp {reference} \"$1\"\nsleep 0.5\n")
    editor.chmod(0o755)
    subprocess.run([EXE, "start", "chapter9", "--no-tui"], cwd=work, env={**os.environ, "DL_COURSE_PACK": str(small_pack)},
                   check=True, capture_output=True)
    env = {"DL_COURSE_PACK": str(small_pack), "TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "HOME": str(tmp_path), "EDITOR": str(editor)}
    term = Terminal([EXE], work, env)
    try:
        term.wait_for("subsequent_mask")
        term.keys("Down", "Enter")
        term.wait_for("Your file: chapter09/subsequent_mask.py")
        term.keys("e")
        term.wait_for("✓ passed")  # back from the editor, checked at once
        assert (work / "chapter09" / "subsequent_mask.py").read_text() == reference_source()
    finally:
        term.close()
