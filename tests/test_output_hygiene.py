"""Output hygiene: nothing a learner produced reaches a terminal, the TUI, HTML, Markdown or CSV as control.

Each attack is written the way a learner (or a student in a class) would write it, and driven
through the real CLI in a temporary workspace where it can be: a file that clears the screen and
prints a fake "✓ passed" line, an exception whose message carries escape sequences and Rich
markup, student folder names and exception messages carrying HTML and JavaScript (for the class
exports), and a notebook whose name and cells carry the same (for the `%check` HTML).

What a learner prints is still shown (in its own box), only without the control characters: the
verdict line above it is the grader's, and nothing below the box can overwrite it.
"""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import nbformat
import pytest

from conftest import Cli, make_pack, reference_source

# Clears the screen, homes the cursor, and prints a verdict in the grader's own colours.
FAKE_PASS = "\x1b[2J\x1b[H\x1b[1;32m✓ subsequent_mask\x1b[0m  Subsequent mask  10/10  0.1 s"
EVIL_MESSAGE = ("\x1b[2J\x1b[1;32m✓ passed\x1b[0m \x1b]0;owned\x07 [bold red]markup[/] "
                "<script>alert('x')</script> ✗\r✓ overwritten")

LEARNER = f'''import torch

print({FAKE_PASS!r})
print("\\x1b[2K\\r\\x9b2Jstill printing")


def subsequent_mask(size, device=None):
    raise ValueError({EVIL_MESSAGE!r})
'''

# The learner's sequences that do harm, none of which Rich itself writes (its live display does
# write \x1b[2K and \r, so those are checked where Rich draws nothing live).
HARMFUL = ("\x1b[2J", "\x1b[H", "\x1b]0;", "\x9b", "\x07", "\x1b[2K\r")


def _none_of_harmful(out: str) -> None:
    for seq in HARMFUL:
        at = out.find(seq)
        assert at < 0, f"{seq!r} reached the terminal: …{out[max(0, at - 200):at + 200]!r}…"


def _no_controls(text: str, where: str) -> None:
    at = next((i for i, c in enumerate(text) if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f), -1)
    assert at < 0, f"{where} carries control character {text[at]!r}: …{text[max(0, at - 200):at + 200]!r}…"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _no_controls_anywhere(doc, where: str) -> None:
    for s in _strings(doc):
        _no_controls(s, where)


# --------------------------------------------------------------------------------------------
# The helpers themselves


def test_clean_removes_sequences_whole_and_keeps_text() -> None:
    from dl_course.textsafe import clean

    assert clean("plain ✓ text\n\twith tabs") == "plain ✓ text\n\twith tabs"
    assert clean("\x1b[31mred\x1b[0m") == "red"
    assert clean("a\x1b[2J\x1b[Hb") == "ab"
    assert clean("x\x1b]0;title\x07y") == "xy"
    assert clean("\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\") == "link"
    assert clean("\x9b2Jz") == "z"
    assert clean("✗ failed\r✓ passed") == "✗ failed\n✓ passed"  # a CR cannot overwrite the line
    assert clean("a\r\nb") == "a\nb"
    assert clean("nul\x00del\x7fbell\x07bs\x08") == "nuldelbellbs"
    assert clean("abc\u202edcba") == "abcdcba"  # bidi override
    assert clean(None) == "" and clean(3) == "3"
    for text in ("\x1b[1;31m[x]\x1b[0m\r\n", EVIL_MESSAGE, FAKE_PASS):
        assert clean(clean(text)) == clean(text)
        _no_controls(clean(text), "clean()")


def test_markdown_html_and_csv_escaping() -> None:
    from dl_course.textsafe import csv_cell, html_text, markdown_code, markdown_text

    md = markdown_text("<script>alert(1)</script> | **b** [x](javascript:y)\nnext")
    assert "<" not in md and ">" not in md and "\n" not in md
    assert "\\|" in md and "\\*\\*b\\*\\*" in md and "\\[x\\]" in md
    code = markdown_code("a`b|c")
    assert code.startswith("``") and code.endswith("``") and "\\|" in code
    assert html_text("<img src=x onerror=alert(1)>\x1b[2J\"") == "&lt;img src=x onerror=alert(1)&gt;&quot;"
    for evil in ("=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\t=x", "\x1b=x", "\r=1"):
        assert csv_cell(evil)[:1] not in ("=", "+", "-", "@", "\t", "\r"), evil
    assert csv_cell("ana") == "ana"


def test_every_verdict_is_cleaned_where_it_is_made() -> None:
    """`from_dict` (every verdict the judge sends) and direct construction alike."""
    from dl_course.grading.result import CheckResult, ExerciseResult

    raw = {"exercise": "subsequent_mask\x1b[2J", "title": "t\x07", "passed": False, "score": 0, "max_score": 10,
           "diagnosis": {"id": "x\x1b[1m", "message": EVIL_MESSAGE}, "duration_s": 0.1, "seed": 1,
           "devices": ["cpu\x1b[2J"], "output": FAKE_PASS, "error": EVIL_MESSAGE, "file": "a\x1b[2J.py",
           "checks": [{"name": "values\x1b[2J", "title": "v", "passed": False, "status": "failed",
                       "message": EVIL_MESSAGE, "case": "\x1b[2Jcase", "line": 3}],
           "figures": [{"check": "values", "title": "\x1b[2Jt", "expected": [[1.0]], "got": None}]}
    r = ExerciseResult.from_dict(raw)
    _no_controls_anywhere(r.to_dict(), "ExerciseResult.from_dict")
    assert "[bold red]markup[/]" in r.checks[0].message and r.figures[0]["expected"] == [[1.0]]
    direct = CheckResult(name="n", title="t", passed=False, status="failed", message=EVIL_MESSAGE)
    _no_controls(direct.message, "CheckResult()")
    failed = ExerciseResult.failed("e", "t", 10, "the grader stopped:\n" + EVIL_MESSAGE, file="\x1b[2Jf.py")
    _no_controls_anywhere(failed.to_dict(), "ExerciseResult.failed")
    # Set later (a notebook's name, a message with the cell and line put in): cleaned as well.
    r.file, r.error, r.checks[0].message = "\x1b[2Jnb.ipynb", FAKE_PASS, EVIL_MESSAGE
    r.checks.append(CheckResult(name="x", title="\x1b]0;t\x07", passed=False, status="failed"))
    _no_controls_anywhere(r.to_dict(), "a verdict changed after it was made")


# --------------------------------------------------------------------------------------------
# `dl-course check`: the terminal, --json, and the progress store


@pytest.fixture
def attacked(cli: Cli) -> Cli:
    assert cli("start", "chapter9", "--no-tui").returncode == 0
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(LEARNER)
    return cli


def test_check_on_a_colour_terminal_shows_no_learner_control_sequence(attacked: Cli, monkeypatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # Rich writes its own colours, as on a terminal
    proc = attacked("check")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    _none_of_harmful(out)
    assert "\x1b[1;32m✓ subsequent_mask" not in out and "\x1b[1;32m✓ passed" not in out
    # The grader's verdict is there, the learner's text is shown as text (markup not interpreted).
    assert "✗ subsequent_mask" in out
    assert "[bold red]markup[/]" in out and "still printing" in out


def test_check_plain_and_json_carry_no_control_characters(attacked: Cli) -> None:
    proc = attacked("check")
    assert proc.returncode == 1
    _no_controls(proc.stdout, "check's stdout")
    _no_controls(proc.stderr, "check's stderr")
    assert "[bold red]markup[/]" in proc.stdout
    code, doc = attacked.json("check")
    assert code == 1
    _no_controls_anywhere(doc, "check --json")
    result = doc["results"][0]
    failing = next(c for c in result["checks"] if c["status"] in ("failed", "error"))
    assert "[bold red]markup[/]" in failing["message"] and "✓ passed" in failing["message"]
    assert "still printing" in result["output"]
    # What was recorded is clean too (the TUI and `dl-course progress` read it back).
    import sqlite3

    with sqlite3.connect(attacked.cwd / ".dl-course" / "progress.sqlite") as conn:
        rows = conn.execute("SELECT checks FROM attempts").fetchall()
    assert rows
    for (checks,) in rows:
        _no_controls_anywhere(json.loads(checks), "the progress store")


# --------------------------------------------------------------------------------------------
# The TUI's result view


def _render_result_view(**kwargs) -> str:
    from textual.app import App
    from textual.widgets import Static

    from dl_course.tui.widgets import ResultView

    shown: list[str] = []

    class One(App):
        def compose(self):
            yield ResultView(**kwargs)

    async def go():
        app = One()
        async with app.run_test(size=(120, 60)) as pilot:
            await pilot.pause()
            for widget in app.query(Static):
                rendered = widget.render()
                shown.append(getattr(rendered, "plain", str(rendered)))

    asyncio.run(go())
    return "\n".join(shown)


def test_tui_result_view_shows_learner_text_as_text() -> None:
    from dl_course.grading.result import ExerciseResult

    raw = {"exercise": "subsequent_mask", "title": "Subsequent mask", "passed": False, "score": 0, "max_score": 10,
           "diagnosis": None, "duration_s": 0.1, "seed": 1, "devices": ["cpu"], "output": FAKE_PASS,
           "error": None, "checks": [{"name": "values", "title": "values", "passed": False, "status": "failed",
                                      "message": EVIL_MESSAGE}]}
    text = _render_result_view(result=ExerciseResult.from_dict(raw))
    _no_controls(text, "the TUI")
    assert "[bold red]markup[/]" in text and "✗ not yet" in text
    # A recorded attempt, read back from the progress store as it is (an older store, or one the
    # learner wrote to), is cleaned where it is shown.
    recorded = _render_result_view(checks=[{"name": "values\x1b[2J", "title": "v", "status": "failed",
                                            "message": EVIL_MESSAGE, "line": 4}])
    _no_controls(recorded, "the TUI (recorded attempt)")
    assert "[bold red]markup[/]" in recorded


# --------------------------------------------------------------------------------------------
# `dl-course grade`: the class exports and the terminal summary

IMG = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' \\C calc'!A0"
ESCAPED_NAME = "\x1b[2Jmallory"
THROWS = f'''raise ValueError("<script>alert('owned')</script> **bold** | cell \\x1b[2J [bold red]x[/]")\n'''


def test_class_exports_escape_student_text(tmp_path: Path, monkeypatch) -> None:
    pack = make_pack(tmp_path / "pack")
    subs = tmp_path / "subs"
    for name, code in (("ana", reference_source()), (IMG, THROWS), (FORMULA, THROWS), (ESCAPED_NAME, THROWS)):
        (subs / name).mkdir(parents=True)
        (subs / name / "subsequent_mask.py").write_text(code)
    out = tmp_path / "grades"
    monkeypatch.setenv("FORCE_COLOR", "1")
    proc = Cli(tmp_path, pack)("grade", str(subs), "--out", str(out), "--workers", "1", "--seed", "7", timeout=600)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    terminal = proc.stdout + proc.stderr
    _none_of_harmful(terminal)

    md = (out / "misconceptions.md").read_text()
    _no_controls(md, "misconceptions.md")
    for raw in ("<script>", "</script>", "<img", IMG, "**bold**"):
        assert raw not in md, f"{raw!r} reaches misconceptions.md raw:\n{md}"
    assert "&lt;img" in md and "&lt;script&gt;" in md  # still there, as text
    assert "mallory" in md

    text = (out / "grades.csv").read_text()
    _no_controls(text, "grades.csv")
    names = [row["student"] for row in csv.DictReader(text.splitlines())]
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names), names
    assert "'" + FORMULA in names and "ana" in names
    assert "\\x1b[2Jmallory" in names  # the name's control characters made visible, not obeyed

    for name in ("grades.json", "misconceptions.json"):
        _no_controls_anywhere(json.loads((out / name).read_text()), name)
    grades = json.loads((out / "grades.json").read_text())
    assert {s["student"]: s["total"] for s in grades["students"]}["ana"] == 10


def test_gradescope_output_carries_no_control_characters(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack")
    upload = tmp_path / "autograder" / "submission"
    upload.mkdir(parents=True)
    (upload / "subsequent_mask.py").write_text(LEARNER)
    results = tmp_path / "autograder" / "results" / "results.json"
    proc = Cli(tmp_path, pack)("gradescope", "--submission", str(upload), "--results", str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer = json.loads(results.read_text())
    _no_controls_anywhere(answer, "results.json")
    assert "[bold red]markup[/]" in answer["tests"][0]["output"]


# --------------------------------------------------------------------------------------------
# `%check` in a notebook: the HTML and the plain text


def test_check_html_escapes_learner_text_and_names(tmp_path: Path, small_pack: Path) -> None:
    from dl_course import jupyter

    ws = tmp_path / "work"
    ws.mkdir()
    (ws / "dl-course.toml").write_text("format_version = 1\n")
    v4 = nbformat.v4
    source = LEARNER.replace("import torch\n", "")
    cell = v4.new_code_cell(source, metadata={"dl_course": {"exercise": "subsequent_mask"},
                                              "tags": ["dl-course:subsequent_mask"]})
    nb = ws / f"{IMG}\x1b[2J.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell("import torch"), cell]), str(nb))
    jupyter.check("subsequent_mask", notebook=str(nb), course=str(small_pack), device="cpu")
    report = jupyter.last
    assert report is not None and report.results, report and report.error
    page = report._repr_html_()
    _no_controls(page, "the %check HTML")
    for raw in ("<script", "<img", "onerror=alert(1)>"):
        assert raw not in page, f"{raw!r} reaches the %check HTML raw"
    assert "&lt;script&gt;" in page and "[bold red]markup[/]" in page
    plain = repr(report)
    _no_controls(plain, "the %check text")
    # A grading error naming the notebook is shown as text too.
    html_error = jupyter.Report(error=f"{nb}: \x1b[2J{IMG}")._repr_html_()
    _no_controls(html_error, "the %check error HTML")
    assert "<img" not in html_error


def test_tui_check_of_the_attack_shows_it_as_text(tmp_path: Path, small_pack: Path) -> None:
    """The TUI's own path: press c on the attacking file, read what the screen shows."""
    from dl_course import service
    from test_tui import check, make_app, open_exercise, screen_text

    ws = tmp_path / "work"
    ws.mkdir()
    service.start("chapter9", str(small_pack), cwd=ws)
    (ws / "chapter09" / "subsequent_mask.py").write_text(LEARNER)

    async def go() -> str:
        app = make_app(ws, small_pack)
        async with app.run_test(size=(120, 60)) as pilot:
            await open_exercise(pilot, "subsequent_mask")
            await check(pilot)
            return screen_text(app)

    shown = asyncio.run(go())
    _no_controls(shown, "the TUI after a check")
    assert "[bold red]markup[/]" in shown and "✗ not yet" in shown


def test_an_error_quoting_what_was_typed_carries_no_control_sequence(cli: Cli) -> None:
    """Errors quote names the user or a file gave (an exercise, a path): those must not drive
    the terminal when printed."""
    assert cli("start", "chapter9", "--no-tui").returncode == 0
    proc = cli("check", "\x1b[2J\x1b[Hsubsequent_mask\x07")
    assert proc.returncode == 2, proc.stderr
    assert "error" in proc.stderr and "subsequent_mask" in proc.stderr
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr, repr(proc.stderr)
