"""Every path a person takes ends cleanly (issue 12): interrupts, locks, read-only folders, missing files.

Each test drives the real `dl-course` the way a person would: Ctrl-C in a pseudo-terminal, a real
second process holding the SQLite write lock, a workspace mounted read-only, a file deleted under
`check --watch`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXE, Cli, reference_source

pexpect = pytest.importorskip("pexpect")

LINUX = sys.platform.startswith("linux")


def _env(pack: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DL_COURSE_PACK"}
    env.update({"DL_COURSE_PACK": str(pack), "COLUMNS": "100", "TERM": "xterm", **extra})
    return env


def _plain(text: str) -> str:
    """What a person reads on the terminal: no escape codes, line wrapping undone."""
    import re

    return " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).split())


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            tree.setdefault(int(stat.rsplit(b")", 1)[1].split()[1]), []).append(int(name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        p = todo.pop()
        for c in tree.get(p, []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _spinning_check(tmp_path: Path, small_pack: Path):
    """`dl-course check` on a `while True: pass` file in a pseudo-terminal, once its learner process spins."""
    work = tmp_path / "work"
    work.mkdir()
    Cli(work, small_pack)("start", "chapter9", "--no-tui")
    (work / "chapter09" / "subsequent_mask.py").write_text("while True:\n    pass\n")
    child = pexpect.spawn(EXE, ["check", "subsequent_mask"], cwd=str(work), env=_env(small_pack),
                          dimensions=(24, 100), encoding="utf-8", codec_errors="replace", timeout=60)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        below = _descendants(child.pid)
        if any("dl_course.grading.learner" in _cmdline(p) for p in below) and len(below) >= 3:
            time.sleep(1.0)  # the session is forked and running the learner's loop
            below = _descendants(child.pid)
            return child, below
        time.sleep(0.2)
    child.terminate(force=True)
    raise AssertionError("the learner process never started")


def _assert_all_gone(pids: set[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    left = {p: _cmdline(p) for p in pids if _alive(p)}
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"still running after the CLI ended: {left}"


@pytest.mark.skipif(not LINUX, reason="reads the process tree from /proc")
def test_ctrl_c_during_check_stops_every_process_it_started(tmp_path: Path, small_pack: Path) -> None:
    child, below = _spinning_check(tmp_path, small_pack)
    child.sendintr()  # Ctrl-C on the terminal: the whole foreground group gets SIGINT
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    _assert_all_gone(below)
    assert "Traceback" not in (child.before or "")


@pytest.mark.skipif(not LINUX, reason="reads the process tree from /proc")
def test_sigterm_to_check_stops_every_process_it_started(tmp_path: Path, small_pack: Path) -> None:
    child, below = _spinning_check(tmp_path, small_pack)
    os.kill(child.pid, signal.SIGTERM)  # only the CLI gets it (kill, a closing IDE, a CI runner)
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    _assert_all_gone(below)
    assert "Traceback" not in (child.before or "")


def test_check_watch_waits_for_a_missing_file_to_come_back(tmp_path: Path, small_pack: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    Cli(work, small_pack)("start", "chapter9", "--no-tui")
    mine = work / "chapter09" / "subsequent_mask.py"
    mine.write_text(reference_source())
    child = pexpect.spawn(EXE, ["check", "--watch", "subsequent_mask"], cwd=str(work), env=_env(small_pack),
                          dimensions=(24, 100), encoding="utf-8", codec_errors="replace", timeout=90)
    try:
        child.expect("watching subsequent_mask.py: save")
        mine.unlink()  # deleted (or `git stash`ed) for longer than the debounce
        child.expect("missing: ")
        child.expect("waiting for it to come back")
        time.sleep(1.0)
        mine.write_text(reference_source())
        child.expect("back: checking again")
        child.expect("watching subsequent_mask.py…")
        assert child.isalive()
        child.sendintr()
        child.expect(pexpect.EOF, timeout=20)
    finally:
        child.close(force=True)
    assert "Traceback" not in (child.before or "")


def test_check_watch_asks_for_a_save_not_for_the_command_it_is_running(tmp_path: Path, small_pack: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    Cli(work, small_pack)("start", "chapter9", "--no-tui")  # the starter: it fails
    child = pexpect.spawn(EXE, ["check", "--watch", "subsequent_mask"], cwd=str(work), env=_env(small_pack),
                          dimensions=(24, 160), encoding="utf-8", codec_errors="replace", timeout=90)
    try:
        child.expect("watching subsequent_mask.py: save")
        shown = child.before
        child.sendintr()
        child.expect(pexpect.EOF, timeout=20)
    finally:
        child.close(force=True)
    assert "fix subsequent_mask, save, and it is checked again" in shown
    assert "then `dl-course check subsequent_mask`" not in shown


# -- a read-only workspace ------------------------------------------------------------------

def _unshare() -> list[str] | None:
    """How to get a private mount namespace here (root: -m; else a user namespace too), or None."""
    import shutil

    exe = shutil.which("unshare")
    if exe is None or not LINUX:
        return None
    for flags in ([["-m"]] if os.geteuid() == 0 else []) + [["-Urm"]]:
        probe = subprocess.run([exe, *flags, "sh", "-c", "mount --bind / /mnt 2>/dev/null || mount -t tmpfs t /mnt"],
                               capture_output=True)
        if probe.returncode == 0:
            return [exe, *flags]
    return None


UNSHARE = _unshare()
needs_read_only_mount = pytest.mark.skipif(
    UNSHARE is None, reason="no private mount namespace (unshare -m / -Urm) to mount the workspace read-only; "
                            "chmod cannot stop root, so there is no honest read-only folder to test with")


def _read_only(folder: Path, pack: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`dl-course ARGS` in `cwd` with `folder` mounted read-only (a bind mount in a private namespace)."""
    import shlex

    line = (f"mount --bind {shlex.quote(str(folder))} {shlex.quote(str(folder))} && "
            f"mount -o remount,bind,ro {shlex.quote(str(folder))} && cd {shlex.quote(str(cwd or folder))} && "
            f"exec {shlex.quote(EXE)} " + " ".join(shlex.quote(a) for a in args))
    return subprocess.run([*UNSHARE, "sh", "-c", line], env=_env(pack, COLUMNS="200"), capture_output=True,
                          text=True, timeout=300)


def _clean(proc: subprocess.CompletedProcess) -> str:
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert "damaged" not in both and "move the database aside" not in both, both
    return both


@needs_read_only_mount
def test_read_only_workspace_still_grades_and_says_nothing_was_recorded(tmp_path: Path, small_pack: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(work, small_pack)
    cli("start", "chapter9", "--no-tui")
    mine = work / "chapter09" / "subsequent_mask.py"
    mine.write_text(reference_source())
    assert cli("check", "subsequent_mask").returncode == 0  # one attempt on record
    before = (work / ".dl-course" / "progress.sqlite").read_bytes()

    checked = _read_only(work, small_pack, "check", "subsequent_mask")
    said = _clean(checked)
    assert checked.returncode == 0, said  # the verdict decides, as ever
    assert "✓ subsequent_mask" in checked.stdout and "10/10" in checked.stdout
    assert "read-only" in checked.stderr and "not recorded" in checked.stderr

    shown = _read_only(work, small_pack, "progress")
    said = _clean(shown)
    assert shown.returncode == 0, said
    assert "1 of 1 exercises passed" in shown.stdout  # the history is still read
    assert "read-only" in shown.stderr and "nothing is recorded" in shown.stderr

    hinted = _read_only(work, small_pack, "hint", "subsequent_mask")
    said = _clean(hinted)
    assert hinted.returncode == 0, said
    assert "Hint 1 of" in hinted.stdout and "not marked as seen" in hinted.stderr

    listed = _read_only(work, small_pack, "list")
    assert listed.returncode == 0, _clean(listed)

    reset = _read_only(work, small_pack, "reset", "--yes", "subsequent_mask")
    said = _clean(reset)
    assert reset.returncode == 2, said
    assert "cannot reset subsequent_mask" in reset.stderr and "read-only" in reset.stderr
    assert mine.read_text() == reference_source()
    assert (work / ".dl-course" / "progress.sqlite").read_bytes() == before  # nothing written at all


@needs_read_only_mount
def test_start_in_a_read_only_folder_says_so(tmp_path: Path, small_pack: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    started = _read_only(folder, small_pack, "start", "chapter9", "--no-tui")
    said = _clean(started)
    assert started.returncode == 2, said
    assert "cannot create a dl-course workspace" in started.stderr and "read-only" in started.stderr
    assert list(folder.iterdir()) == []


# -- a locked database ----------------------------------------------------------------------

_HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO hints_shown (exercise, hint, at) VALUES ('x', 99, 0)")
print("holding", flush=True)
time.sleep(120)
"""


def test_locked_database_says_it_waits_then_shows_the_verdict_unsaved(tmp_path: Path, small_pack: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(work, small_pack)
    cli("start", "chapter9", "--no-tui")
    (work / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    assert cli("check", "subsequent_mask").returncode == 0
    database = work / ".dl-course" / "progress.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(database)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        child = pexpect.spawn(EXE, ["check", "subsequent_mask"], cwd=str(work),
                              env=_env(small_pack, DL_COURSE_LOCK_WAIT="4", COLUMNS="200"),
                              dimensions=(40, 200), encoding="utf-8", codec_errors="replace", timeout=90)
        try:
            child.expect("10/10")  # the verdict is shown before anything waits
            child.expect("waiting up to 4 s for the write lock on")
            waited_from = time.monotonic()
            assert child.isalive()  # said at once, while it waits
            child.expect(pexpect.EOF)
            waited = time.monotonic() - waited_from
        finally:
            child.close(force=True)
        said = child.before
        assert "Traceback" not in said and "another dl-course" not in said
        assert "gave up after 4 s waiting for the write lock on" in said
        assert f"held by pid {holder.pid}" in said  # names the lock and who holds it
        assert "not recorded" in said
        assert child.exitstatus == 0  # the verdict decides the exit status, not the bookkeeping
        assert 2 < waited < 20
    finally:
        holder.kill()
        holder.wait()
    # Once the lock is gone, recording works again.
    assert cli("check", "subsequent_mask").returncode == 0


# -- Ctrl-C of a class run ------------------------------------------------------------------

HANG = "def subsequent_mask(size, device=None):\n    while True:\n        pass\n"


def _verdicts(out: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(out / "gradebook.sqlite", timeout=0.1) as db:
            return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.skipif(not LINUX, reason="reads the process tree from /proc")
def test_ctrl_c_of_grade_regrade_writes_no_partial_export_and_stops_its_judges(tmp_path: Path,
                                                                               small_pack: Path) -> None:
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    for name in ("ana", "eve"):
        (subs / name).mkdir(parents=True)
        (subs / name / "subsequent_mask.py").write_text(reference_source())
    cli = Cli(tmp_path, small_pack)
    first = cli("grade", str(subs), "--out", str(out), "--workers", "1", "--allow-unisolated")
    assert first.returncode == 0, first.stdout + first.stderr
    complete = (out / "grades.csv").read_bytes()
    assert b"ana,10" in complete and b"eve,10" in complete

    (subs / "ben").mkdir()
    (subs / "ben" / "subsequent_mask.py").write_text(HANG)  # graded second: ana, ben, eve
    child = pexpect.spawn(EXE, ["grade", str(subs), "--out", str(out), "--workers", "1", "--batch-size", "1",
                                "--regrade", "--allow-unisolated"], cwd=str(tmp_path), env=_env(small_pack),
                          dimensions=(30, 120), encoding="utf-8", codec_errors="replace", timeout=120)
    try:
        child.expect("to grade now: 3")  # the old verdicts are forgotten by now
        deadline = time.monotonic() + 120
        while _verdicts(out) < 1 and time.monotonic() < deadline:  # ana is graded, ben's loop spins
            time.sleep(0.1)
        assert _verdicts(out) == 1
        time.sleep(2.0)
        below = _descendants(child.pid)
        assert below, "no judge was running"
        child.sendintr()
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    said = _plain(child.before)
    assert child.exitstatus == 130, said
    assert "Traceback" not in said
    assert "Interrupted" in said and "exports were not written" in said and "incomplete" in said
    assert "still the export of an earlier run" in said
    assert (out / "grades.csv").read_bytes() == complete  # no partial rows such as `ben,,,0,20,`
    assert not list(out.glob("*.tmp"))
    _assert_all_gone(below)


# -- quitting the TUI mid-check -------------------------------------------------------------

@pytest.mark.skipif(not LINUX, reason="reads the process tree from /proc")
def test_q_in_the_tui_during_a_check_quits_at_once(tmp_path: Path, small_pack: Path) -> None:
    import shutil
    import sqlite3

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    from test_tui_terminal import Terminal

    work = tmp_path / "work"
    work.mkdir()
    Cli(work, small_pack)("start", "chapter9", "--no-tui")
    (work / "chapter09" / "subsequent_mask.py").write_text("while True:\n    pass\n")
    env = {"DL_COURSE_PACK": str(small_pack), "TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "HOME": str(tmp_path)}
    term = Terminal([EXE, ";", "echo", "EXITED-$?"], work, env, size=(100, 30))
    try:
        term.wait_for("subsequent_mask")
        term.keys("Down", "Enter")
        term.wait_for("Your file: chapter09/subsequent_mask.py")
        term.keys("c")
        term.wait_for("checking")
        shell = int(subprocess.run([*term.base, "display", "-p", "-t", term.name, "#{pane_pid}"],
                                   capture_output=True, text=True, check=True).stdout)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the learner's loop is running
            below = _descendants(shell)
            if sum("dl_course.grading" in _cmdline(p) for p in below) >= 3:
                break
            time.sleep(0.2)
        time.sleep(1.0)
        below = _descendants(shell)
        pressed = time.monotonic()
        term.keys("q")
        shown = term.wait_for("EXITED-0", timeout=30)
        took = time.monotonic() - pressed
        assert took < 8, f"quitting took {took:.1f} s"
        assert "Error" not in shown and "Traceback" not in shown, shown
        _assert_all_gone(below)
    finally:
        term.close()
    database = work / ".dl-course" / "progress.sqlite"
    if database.exists():  # the cancelled check is no attempt
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 0


# -- where an attempt came from -------------------------------------------------------------

def test_notebook_attempts_never_change_what_list_says_about_a_py_file(tmp_path: Path, small_pack: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(work, small_pack)
    cli("start", "chapter9", "--no-tui")
    assert cli("notebook", "chapter9").returncode == 0

    def row() -> dict:
        code, listing = cli.json("list")
        assert code == 0
        return listing["chapters"][0]["exercises"][0]

    # Run All on the fresh notebook: its starter cell fails. The untouched .py is not said to fail;
    # the row is about the notebook, the one file checked.
    assert cli("check", "chapter09.ipynb").returncode == 1
    got = row()
    assert (got["file"], got["source"], got["status"], got["attempts"]) == ("chapter09.ipynb", "notebook", "failed", 1)

    # Now the learner works in the .py file: the row is about it, the notebook is listed elsewhere.
    (work / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    assert cli("check", "subsequent_mask").returncode == 0
    assert cli("check", "chapter09.ipynb").returncode == 1  # another Run All
    got = row()
    assert (got["file"], got["source"], got["status"], got["attempts"]) == \
        ("chapter09/subsequent_mask.py", "file", "passed", 1)
    assert got["path"] == str(work / "chapter09" / "subsequent_mask.py")
    assert [(e["file"], e["status"], e["attempts"]) for e in got["elsewhere"]] == [("chapter09.ipynb", "failed", 2)]
    shown = cli("list")
    assert "chapter09/subsequent_mask.py" in " ".join(shown.stdout.split()) and "passed" in shown.stdout
    assert "1 of 1 exercises passed" in cli("progress").stdout


# -- small exits: version, misspellings, no GPU, pipes and the pager -----------------------------

def test_version_and_did_you_mean(cli: Cli) -> None:
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("dl-course ")
    cli("start", "chapter9", "--no-tui")
    for args in (["check", "subsequent_msk"], ["hint", "subsequent_mak"], ["reset", "--yes", "subsequnt_mask"]):
        proc = cli(*args)
        assert proc.returncode == 2 and "did you mean 'subsequent_mask'?" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_device_cuda_without_a_gpu_is_a_usage_error_and_records_nothing(cli: Cli) -> None:
    from dl_course.grading.runner import _cuda_visible

    if _cuda_visible():
        pytest.skip("this machine has a GPU")
    cli("start", "chapter9", "--no-tui")
    proc = cli("check", "subsequent_mask", "--device", "cuda")
    assert proc.returncode == 2 and "no GPU here" in proc.stderr and "Traceback" not in proc.stderr
    assert "fix " not in proc.stdout  # no 'Next: fix …' for a verdict that never was
    code, listing = cli.json("list")
    assert listing["chapters"][0]["exercises"][0]["attempts"] == 0


def test_piped_lesson_and_solution_are_plain_and_whole(cli: Cli, small_pack: Path) -> None:
    cli("start", "chapter9", "--no-tui")
    lesson = cli("lesson", "9")
    assert lesson.returncode == 0 and "\x1b[" not in lesson.stdout
    source = "\n".join((small_pack / "curriculum" / "chapter09").joinpath(f).read_text()
                       for f in sorted(os.listdir(small_pack / "curriculum" / "chapter09")) if f.endswith(".md"))
    long_lines = [line for line in source.splitlines() if len(line) > 100]
    assert long_lines and all(line in lesson.stdout for line in long_lines)  # never cut at 80 columns
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    solution = cli("solution", "subsequent_mask", "--reveal")
    assert solution.returncode == 0 and solution.stdout == reference_source()  # `> f` gives runnable code


def test_lesson_pager_shows_colours(tmp_path: Path, small_pack: Path) -> None:
    seen = tmp_path / "less-flags"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\necho "LESS=$LESS" > {seen}\ncat > /dev/null\n')
    pager.chmod(0o755)
    env = {k: v for k, v in _env(small_pack).items() if k != "LESS"} | {"PAGER": str(pager)}
    child = pexpect.spawn(EXE, ["lesson", "9"], cwd=str(tmp_path), env=env, encoding="utf-8",
                          codec_errors="replace", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "-R" in seen.read_text()


def test_gradescope_results_folder_and_a_missing_submission(tmp_path: Path, small_pack: Path) -> None:
    import json

    cli = Cli(tmp_path, small_pack)
    results = tmp_path / "autograder" / "results"
    results.mkdir(parents=True)
    missing = cli("gradescope", "--submission", str(tmp_path / "nothing"), "--results", str(results),
                  "--allow-unisolated")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    answer = json.loads((results / "results.json").read_text())  # the student reads why
    assert answer["score"] == 0 and "could not be graded" in answer["output"] and "nothing" in answer["output"]
    sub = tmp_path / "autograder" / "submission"
    sub.mkdir()
    (sub / "subsequent_mask.py").write_text(reference_source())
    graded = cli("gradescope", "--submission", str(sub), "--results", str(results), "--allow-unisolated")
    assert graded.returncode == 0 and "Traceback" not in graded.stderr, graded.stderr
    assert json.loads((results / "results.json").read_text())["score"] == 10
    assert sorted(p.name for p in results.iterdir()) == ["results.json"]  # no results.tmp left


def test_tui_edit_without_editor_falls_back_like_git(tmp_path: Path, small_pack: Path) -> None:
    """`e` with $VISUAL/$EDITOR unset runs the first of editor, nano, vim, vi on $PATH (here a stand-in)."""
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    from test_tui_terminal import Terminal

    work = tmp_path / "work"
    work.mkdir()
    Cli(work, small_pack)("start", "chapter9", "--no-tui")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "reference.py").write_text(reference_source())
    nano = bin_dir / "editor"  # first on $PATH, ahead of /usr/bin/editor
    nano.write_text(f'#!/bin/sh\ncp {tmp_path / "reference.py"} "$1"\n')
    nano.chmod(0o755)
    env = {"DL_COURSE_PACK": str(small_pack), "TERM": "xterm-256color", "HOME": str(tmp_path),
           "PATH": f"{bin_dir}:{os.path.dirname(EXE)}:/usr/bin:/bin"}
    term = Terminal([EXE], work, env)
    try:
        term.wait_for("subsequent_mask")
        term.keys("Down", "Enter")
        term.wait_for("Your file: chapter09/subsequent_mask.py")
        term.keys("e")
        term.wait_for("✓ passed")
    finally:
        term.close()
