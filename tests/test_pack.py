"""Course-pack loading: a malformed manifest gets an error naming the file and the field."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from dl_course.course import load_pack
from dl_course.errors import PackError


def _edit(path, pattern, replacement):
    text = path.read_text()
    new = re.sub(pattern, replacement, text, flags=re.M)
    assert new != text
    path.write_text(new)


def test_the_builtin_pack_loads():
    pack = load_pack()
    assert pack.chapter("9").id == "chapter9"
    assert "subsequent_mask" in pack.exercises


@pytest.mark.parametrize("pattern, replacement, field, expected", [
    (r"^points = .*$", 'points = "ten"', "points", "expected an integer"),
    (r"^defines = .*$", "defines = []", "defines", "at least one name"),
    (r"^id = .*$", 'id = "other_name"', "id", "must match its folder name"),
    (r"^time_limit_s = .*$", "time_limit_s = -1", "time_limit_s", "between 0 and 3600"),
    (r"^title = .*$", "", "title", "missing"),
    (r"^format_version = .*$", "format_version = 99", "format_version", "reads format_version 1"),
    (r"^points = .*$", "points = 10\ncolour = 'red'", "colour", "unknown field"),
])
def test_bad_exercise_manifest_names_file_and_field(small_pack, pattern, replacement, field, expected):
    manifest = small_pack / "exercises" / "chapter09" / "subsequent_mask" / "exercise.toml"
    _edit(manifest, pattern, replacement)
    with pytest.raises(PackError) as err:
        load_pack(small_pack)
    message = str(err.value)
    assert str(manifest) in message and f"'{field}'" in message and expected in message


def test_bad_toml_and_missing_exercise(small_pack):
    chapter = small_pack / "curriculum" / "chapter09" / "chapter.toml"
    _edit(chapter, r"^exercises = .*$", 'exercises = ["subsequent_mask", "nope"]')
    with pytest.raises(PackError, match="lists exercise 'nope'"):
        load_pack(small_pack)
    chapter.write_text("title = [unclosed\n")
    with pytest.raises(PackError, match="not valid TOML"):
        load_pack(small_pack)


def test_hint_attached_to_nonsense_is_refused(small_pack):
    manifest = small_pack / "exercises" / "chapter09" / "subsequent_mask" / "exercise.toml"
    manifest.write_text(manifest.read_text() + '\n[[hints]]\non = "whenever"\ntext = "x"\n')
    with pytest.raises(PackError, match=r"hints\[5\]'.*check:NAME"):
        load_pack(small_pack)


def test_cli_reports_a_pack_error_without_a_traceback(cli, small_pack):
    manifest = small_pack / "exercises" / "chapter09" / "subsequent_mask" / "exercise.toml"
    _edit(manifest, r"^points = .*$", "points = 0")
    proc = cli("list")
    assert proc.returncode == 2
    assert "'points'" in proc.stderr and "Traceback" not in proc.stderr


def test_commands_that_do_not_grade_never_import_torch():
    code = ("import sys\nfrom dl_course import cli, service, render, author, workspace, progress\n"
            "from dl_course.grading import runner, result\n"
            "assert 'torch' not in sys.modules, 'torch imported'\nassert 'textual' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


RAW_LATEX = re.compile(r"\$\$|\\(frac|sqrt|cdot|sum|prod|alpha|beta|mathbf|mathrm|text|left|right|begin)\b|\^\{|_\{")


def test_lessons_read_well_in_a_terminal():
    """Equations are written in Unicode (√, ·, ², …): no raw LaTeX is left for the learner to decode."""
    pack = load_pack()
    found = []
    for chapter in pack.chapters:
        for lesson in chapter.lessons:
            for number, line in enumerate(lesson.read_text(encoding="utf-8").splitlines(), 1):
                if RAW_LATEX.search(line):
                    found.append(f"{lesson.name}:{number}: {line.strip()}")
    assert not found, "raw LaTeX in lessons:\n" + "\n".join(found)


def test_a_support_module_shared_by_a_chapter_lies_once(small_pack, tmp_path):
    """Several exercises of a chapter may provide the same module from exercises/<chapter>/_support/:
    the learner gets it beside their file; both places, or neither, is an error naming the file."""
    shared = small_pack / "exercises" / "chapter09" / "_support"
    shared.mkdir()
    (shared / "helpers.py").write_text("def helper():\n    return 42\n")
    manifest = small_pack / "exercises" / "chapter09" / "subsequent_mask" / "exercise.toml"
    _edit(manifest, r"^points = (.*)$", r'points = \1\nsupport = ["helpers.py"]')
    ex = load_pack(small_pack).exercises["subsequent_mask"]
    assert ex.support_file("helpers.py") == shared / "helpers.py"

    from conftest import started

    cli = started(tmp_path / "work", "chapter9", small_pack)
    assert (cli.cwd / "chapter09" / "helpers.py").read_text() == "def helper():\n    return 42\n"

    (manifest.parent / "helpers.py").write_text("def helper():\n    return 0\n")
    with pytest.raises(PackError, match="both beside exercise.toml and in") as err:
        load_pack(small_pack)
    assert str(manifest) in str(err.value) and "'support'" in str(err.value)
    (manifest.parent / "helpers.py").unlink()
    (shared / "helpers.py").unlink()
    with pytest.raises(PackError, match="neither beside exercise.toml nor in"):
        load_pack(small_pack)
