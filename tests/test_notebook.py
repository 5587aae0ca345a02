"""Chapters as Jupyter notebooks: writing them, grading their tagged cells through the real CLI,
every bad-input error, and the `%check` magic in a real kernel (nbclient)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from conftest import Cli, by_id, make_pack, reference_source

v4 = nbformat.v4

MISTAKE = '''import torch


def subsequent_mask(size, device=None):
    # the upper triangle: each position sees the future (a known mistake)
    return torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)
'''

BROKEN = '''def subsequent_mask(size, device=None):
    mask = torch.ones(size, size, dtype=torch.bool, device=device).tril()
    return helper(mask)
'''

HELPER = '''# a helper the learner wrote in its own cell
def helper(mask):
    return mask.unsqueeze(0) / 0 if mask.dim() > 5 else mask[None][5]
'''


def exercise_cell(exercise_id: str, source: str, how: str = "both"):
    metadata = {}
    if how in ("both", "metadata"):
        metadata["dl_course"] = {"exercise": exercise_id}
    if how in ("both", "tag"):
        metadata["tags"] = [f"dl-course:{exercise_id}"]
    return v4.new_code_cell(source, metadata=metadata)


def write_nb(path: Path, cells) -> Path:
    nb = v4.new_notebook(cells=list(cells))
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def clones_cli(tmp_path: Path) -> Cli:
    """A workspace on a pack with subsequent_mask and two clones of it (one judge run grades all three)."""
    pack = make_pack(tmp_path / "pack", clones={"mask_b": {}, "mask_c": {}})
    ws = tmp_path / "work"
    ws.mkdir()
    (ws / "dl-course.toml").write_text("format_version = 1\n")
    return Cli(ws, pack)


def workspace(cli: Cli) -> Path:
    (cli.cwd / "dl-course.toml").write_text("format_version = 1\n")
    return cli.cwd


# ---------------------------------------------------------------------------------------------
# Writing the notebook


def test_notebook_command_writes_lesson_and_tagged_starter(cli: Cli, small_pack: Path) -> None:
    proc = cli("notebook", "9")
    assert proc.returncode == 0, proc.stderr
    assert "created" in proc.stdout and "chapter09.ipynb" in proc.stdout
    path = cli.cwd / "chapter09.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if c.metadata.get("dl_course", {}).get("exercise") == "subsequent_mask"]
    assert len(tagged) == 1
    cell = tagged[0]
    assert cell.cell_type == "code" and "dl-course:subsequent_mask" in cell.metadata["tags"]
    starter = (small_pack / "exercises" / "chapter09" / "subsequent_mask" / "starter.py").read_text()
    # The starter, whose docstring names the notebook's own command (`%check ID`, not `dl-course check ID`).
    assert "dl-course check subsequent_mask" in starter
    assert cell.source == starter.replace("dl-course check subsequent_mask", "%check subsequent_mask")
    # The lesson is there as Markdown, and the exercise comes after the lesson that teaches it.
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    lesson = (small_pack / "curriculum" / "chapter09" / "30-subsequent-mask.md").read_text()
    # Its headings one level down: the chapter's title is the notebook's only H1.
    title = "#" + lesson.splitlines()[0]
    assert title.startswith("## ")
    assert any(m.startswith(title) for m in markdown)
    assert sum(len(m) for m in markdown) > len(lesson)
    heading = next(i for i, c in enumerate(nb.cells) if c.source.startswith(title))
    assert nb.cells.index(cell) > heading
    # A check cell follows the exercise, and the setup cell loads the extension.
    assert nb.cells[nb.cells.index(cell) + 1].source == "%check subsequent_mask"
    assert any(c.cell_type == "code" and "%load_ext dl_course" in c.source for c in nb.cells)
    assert (cli.cwd / "dl-course.toml").is_file()


def test_writing_a_notebook_never_imports_torch(tmp_path: Path, small_pack: Path) -> None:
    code = ("import sys\nfrom pathlib import Path\nfrom dl_course.notebook import write_notebook\n"
            f"r = write_notebook('chapter9', course={str(small_pack)!r}, cwd=Path({str(tmp_path)!r}))\n"
            "assert r.status == 'created', r.status\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'IPython')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_rerun_keeps_an_edited_notebook_and_refreshes_an_untouched_one(cli: Cli, small_pack: Path) -> None:
    assert cli("notebook", "chapter9").returncode == 0
    path = cli.cwd / "chapter09.ipynb"
    proc = cli("notebook", "chapter9")
    assert proc.returncode == 0 and "unchanged" in proc.stdout
    # The course changes; a notebook nobody edited follows it.
    starter = small_pack / "exercises" / "chapter09" / "subsequent_mask" / "starter.py"
    starter.write_text(starter.read_text() + "\n# a newer starter\n")
    proc = cli("notebook", "chapter9")
    assert "updated" in proc.stdout, proc.stdout
    assert "# a newer starter" in path.read_text()
    # The learner edits it (Jupyter also adds outputs and metadata): it is kept, byte for byte.
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("dl_course", {}).get("exercise"))
    cell.source = reference_source()
    nbformat.write(nb, str(path))
    before = path.read_bytes()
    proc = cli("notebook", "chapter9")
    assert proc.returncode == 0
    assert "kept" in proc.stdout and "--output" in proc.stdout
    assert path.read_bytes() == before
    proc = cli("notebook", "chapter9", "--output", "fresh")
    assert proc.returncode == 0, proc.stderr
    assert (cli.cwd / "fresh.ipynb").is_file() and path.read_bytes() == before


def test_notebook_outside_the_workspace_is_refused(cli: Cli, tmp_path: Path) -> None:
    workspace(cli)
    proc = cli("notebook", "9", "--output", str(tmp_path / "elsewhere.ipynb"))
    assert proc.returncode == 2
    assert "inside your workspace" in " ".join(proc.stderr.split())


# ---------------------------------------------------------------------------------------------
# Grading a notebook through the CLI


def test_check_notebook_grades_reference_mistake_and_broken_cells(clones_cli: Cli) -> None:
    cli = clones_cli
    nb = write_nb(cli.cwd / "mine.ipynb", [
        v4.new_markdown_cell("# My notebook"),
        v4.new_code_cell("%matplotlib inline\nimport torch\n!echo shell lines are not graded"),      # cell 2
        exercise_cell("subsequent_mask", reference_source()),                                       # cell 3
        v4.new_code_cell("subsequent_mask(3)  # an experiment", metadata={"tags": ["dl-course-skip"]}),  # 4
        exercise_cell("mask_b", MISTAKE, how="tag"),                                                 # cell 5
        v4.new_code_cell("%%bash\necho this cell magic is left out"),                             # cell 6
        v4.new_code_cell(HELPER),                                                                    # cell 7
        exercise_cell("mask_c", BROKEN, how="metadata"),                                             # cell 8
    ])
    code, report = cli.json("check", nb.name, "--device", "cpu")
    assert code == 1
    results = by_id(report)
    assert list(results) == ["subsequent_mask", "mask_b", "mask_c"]
    good, mistake, broken = results["subsequent_mask"], results["mask_b"], results["mask_c"]
    assert good["passed"] and good["score"] == good["max_score"] and good["file"] == "mine.ipynb"
    assert not mistake["passed"]
    assert mistake["diagnosis"]["id"] == "upper_triangular"
    assert not broken["passed"] and broken["diagnosis"] is None
    failing = next(c for c in broken["checks"] if c["status"] == "failed")
    # The traceback points at the cells and lines the learner wrote, not at the put-together file.
    assert 'mine.ipynb", cell 8 (mask_c), line 3' in failing["message"], failing["message"]
    assert 'mine.ipynb", cell 7, line 3' in failing["message"], failing["message"]
    assert "IndexError" in failing["message"]
    # Attempts land in the same progress store as for files.
    code, listing = cli.json("list")
    rows = {r["id"]: r for c in listing["chapters"] for r in c["exercises"]}
    assert rows["subsequent_mask"]["attempts"] == 1 and rows["subsequent_mask"]["status"] == "passed"
    assert rows["mask_b"]["status"] == "failed"
    # The graded file sits in the workspace's own folder, each cell marked.
    graded = (cli.cwd / ".dl-course" / "notebooks" / "mine" / "mask_c.py").read_text()
    assert "# cell 7" in graded and "# cell 8 (mask_c)" in graded and "cell magic is left out" not in graded
    assert "# cell 4" not in graded


def test_check_notebook_says_which_broken_cell_it_left_out(clones_cli: Cli) -> None:
    cli = clones_cli
    nb = write_nb(cli.cwd / "mine.ipynb", [
        v4.new_code_cell("import torch"),                                           # cell 1
        v4.new_code_cell("def half_written(:\n    pass"),                           # cell 2: broken, unrelated
        exercise_cell("subsequent_mask", reference_source()),                       # cell 3
    ])
    proc = cli("check", nb.name, "subsequent_mask", "--device", "cpu")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = " ".join(proc.stderr.split())
    assert "note: mine.ipynb: cell 2 was left out of subsequent_mask" in said, said
    code, report = cli.json("check", nb.name, "subsequent_mask", "--device", "cpu")
    assert code == 0 and by_id(report)["subsequent_mask"]["passed"]  # stdout stays JSON


def test_check_notebook_one_exercise_and_the_next_step_names_the_notebook(clones_cli: Cli) -> None:
    cli = clones_cli
    nb = write_nb(cli.cwd / "nb.ipynb", [exercise_cell("subsequent_mask", reference_source()),
                                         exercise_cell("mask_b", MISTAKE)])
    proc = cli("check", "nb.ipynb", "mask_b", "--device", "cpu")
    assert proc.returncode == 1, proc.stderr
    assert "mask_b" in proc.stdout and "subsequent_mask  " not in proc.stdout
    assert "known mistake: upper_triangular" in proc.stdout
    assert "dl-course check nb.ipynb mask_b" in proc.stdout
    assert nb.is_file()


@pytest.mark.parametrize("content, expected", [
    ("{\"cells\": [}", "not valid JSON (line 1, column 12"),
    ("[1, 2]", "not a notebook (the JSON is a list"),
    ("{\"cells\": []}", "no integer 'nbformat' field"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"cell_type": "cod", "source": "", "metadata": {}}]}),
     "cell 1: 'cell_type' must be code, markdown or raw, got 'cod'"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {},
                 "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [],
                            "execution_count": "seven"}]}),
     "not a valid notebook (nbformat 4): cell 1"),
])
def test_malformed_notebooks_are_named(cli: Cli, content: str, expected: str) -> None:
    workspace(cli)
    (cli.cwd / "bad.ipynb").write_text(content)
    proc = cli("check", "bad.ipynb")
    assert proc.returncode == 2, proc.stdout
    assert "bad.ipynb" in proc.stderr
    assert expected in " ".join(proc.stderr.split()), proc.stderr


@pytest.mark.parametrize("cells, args, expected", [
    ([v4.new_code_cell("import torch")], ["subsequent_mask"],
     "no cell is tagged for subsequent_mask; add the tag `dl-course:subsequent_mask`"),
    ([v4.new_code_cell("import torch")], [], "no cell is tagged for an exercise"),
    ([exercise_cell("subsequent_mask", "x = 1"), v4.new_code_cell("y = 2"),
      exercise_cell("subsequent_mask", "z = 3", how="tag")], [],
     "cells 1 and 3 are both tagged for subsequent_mask"),
    ([v4.new_code_cell("import torch", metadata={"dl_course": {"exercise": "subsequent_mask"},
                                                 "tags": ["dl-course:other"]})], [],
     "cell 1 is tagged for more than one exercise"),
    ([exercise_cell("no_such_exercise", "x = 1")], [], "cell 1 is tagged for 'no_such_exercise'"),
    ([v4.new_markdown_cell("# hi"), exercise_cell("subsequent_mask", "import torch\ndef subsequent_mask(size:\n")],
     [], "cell 2 (subsequent_mask), line 2: SyntaxError"),
    ([v4.new_code_cell("import torch\n\nfor i in range(3)\n    pass"), exercise_cell("subsequent_mask", "x = torch.ones(1)")],
     ["subsequent_mask"], "cell 1, line 3: SyntaxError"),
])
def test_bad_cells_are_named(cli: Cli, cells, args, expected: str) -> None:
    workspace(cli)
    write_nb(cli.cwd / "nb.ipynb", cells)
    proc = cli("check", "nb.ipynb", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    assert "nb.ipynb" in message and expected in message, proc.stderr


def test_syntax_error_above_says_it_runs_before(cli: Cli) -> None:
    workspace(cli)
    write_nb(cli.cwd / "nb.ipynb", [v4.new_code_cell("def helper(:\n    pass"),
                                    exercise_cell("subsequent_mask", reference_source() + "\nhelper()\n")])
    proc = cli("check", "nb.ipynb")
    assert proc.returncode == 2
    said = " ".join(proc.stderr.split())
    assert "runs before subsequent_mask's cell" in said and "uses helper, defined here" in said, said


def test_notebook_outside_any_workspace(cli: Cli) -> None:
    write_nb(cli.cwd / "nb.ipynb", [exercise_cell("subsequent_mask", reference_source())])
    proc = cli("check", "nb.ipynb")
    assert proc.returncode == 2
    assert "not inside a dl-course workspace" in proc.stderr


# ---------------------------------------------------------------------------------------------
# The pieces, in-process (no grading)


def test_assembly_runs_cells_top_down_and_maps_lines_back() -> None:
    from dl_course.notebook import NotebookCell, assemble, locate_line

    cells = [NotebookCell(0, "markdown", "# title"),
             NotebookCell(1, "code", "import torch\n%load_ext dl_course\n"),
             NotebookCell(2, "code", "def other():\n    pass", exercise="other"),
             NotebookCell(3, "code", "scratch()", skip=True),
             NotebookCell(4, "code", "def f():\n    return g()\n", exercise="f"),
             NotebookCell(5, "code", "after = 1")]
    a = assemble(cells, cells[4], "nb.ipynb")
    compile(a.source, "x", "exec")
    assert "pass  # IPython: %load_ext dl_course" in a.source
    assert "scratch()" not in a.source and "after = 1" not in a.source
    from dl_course.notebook import python_source

    timed = python_source(NotebookCell(0, "code", "%%time\ndef helper():\n    return 1\ntorch.tril?"))
    assert timed.splitlines()[1:3] == ["def helper():", "    return 1"] and "pass  # IPython: torch.tril?" in timed
    assert python_source(NotebookCell(0, "code", "%%bash\nls -l")) is None
    in_string = 's = """\n%d items\n"""'
    assert python_source(NotebookCell(0, "code", in_string)) == in_string
    assert [c.number for c, _, _ in a.spans] == [2, 3, 5]
    lines = a.source.splitlines()
    g_line = next(i for i, ln in enumerate(lines, 1) if "return g()" in ln)
    assert a.locate(g_line)[0].number == 5 and a.locate(g_line)[1] == 2
    text, line = locate_line(a, f'File "f.py", line {g_line}, in f', "nb.ipynb", g_line, also=("f.py",))
    assert text == 'File "nb.ipynb", cell 5 (f), line 2, in f' and line == 2
    # Words in the header such as "positional_encoding: edit" must not read as an encoding cookie.
    pe = NotebookCell(2, "code", "x = 1", exercise="positional_encoding")
    b = assemble([*cells[:2], pe], pe, "nb.ipynb")
    compile(b.source.encode("utf-8"), "positional_encoding.py", "exec")
    top = next(i for i, ln in enumerate(lines, 1) if ln == "import torch")
    text, _ = locate_line(a, f"nb.ipynb, line {top}: NameError: x", "nb.ipynb")
    assert text.startswith("nb.ipynb, cell 2, line 1: NameError") and "dl-course-skip" in text


def test_which_broken_cells_an_exercise_needs() -> None:
    """A cell that is not valid Python blocks an exercise only when the exercise needs it."""
    from dl_course.errors import NotebookError
    from dl_course.notebook import NotebookCell as C, assemble

    broken = C(1, "code", "import torch\ndef helper(m:\n    return m", exercise="a")
    cells = [C(0, "code", "%load_ext dl_course\nimport torch"), broken,
             C(2, "code", "def f():\n    return helper(1)", exercise="b"),
             C(3, "code", "import torch\ndef g():\n    return torch.ones(1)", exercise="c")]
    # c shares only `import torch` with the broken cell and with b: it is graded, the cell left out.
    a = assemble(cells, cells[3], "nb.ipynb")
    assert [c.number for c, _ in a.left_out] == [2] and "does not use what it defines" in a.left_out[0][1]
    assert "# cell 2 (a): left out" in a.source and "def helper" not in a.source
    # b calls helper: blocked. So is an exercise that builds on a (`uses`), and one whose cells call
    # b's f at import time (f needs helper).
    with pytest.raises(NotebookError, match="uses helper, defined here"):
        assemble(cells, cells[2], "nb.ipynb")
    with pytest.raises(NotebookError, match="builds on a"):
        assemble(cells, cells[3], "nb.ipynb", uses=("a",))
    calls = [*cells[:3], C(3, "code", "x = f()"), C(4, "code", "y = 1", exercise="d")]
    with pytest.raises(NotebookError, match="uses helper"):
        assemble(calls, calls[4], "nb.ipynb")
    star = [C(0, "code", "from torch import *\nprint(("), C(1, "code", "y = 1", exercise="d")]
    with pytest.raises(NotebookError, match="import"):
        assemble(star, star[1], "nb.ipynb")


def test_uses_imports_are_commented_out_in_the_notebook_starter() -> None:
    from dl_course.course import load_pack
    from dl_course.notebook import starter_for_notebook

    pack = load_pack(None)
    text = starter_for_notebook(pack, pack.exercise("square_transformer"))
    compile(text, "starter", "exec")
    assert "\nfrom subsequent_mask import" not in text
    assert "# from subsequent_mask import subsequent_mask" in text
    assert "import torch.nn as nn" in text  # other imports stay
    assert "%check square_transformer" in text and "dl-course check" not in text
    from dl_course.notebook.build import _notebook_commands  # also for %hint's texts

    assert _notebook_commands("pass `dl-course check multi_head_attention` first; `dl-course hint x`") == \
        "pass `%check multi_head_attention` first; `%hint x`"
    assert _notebook_commands("`dl-course check nb.ipynb x`") == "`dl-course check nb.ipynb x`"


def test_unsaved_changes_compare_the_kernel_history_with_the_saved_cells(tmp_path: Path, small_pack: Path) -> None:
    from dl_course.jupyter import unsaved_changes
    from dl_course.notebook import plan_check

    (tmp_path / "dl-course.toml").write_text("format_version = 1\n")
    saved = reference_source()
    nb = write_nb(tmp_path / "nb.ipynb", [exercise_cell("subsequent_mask", saved)])
    plan = plan_check(nb, ["subsequent_mask"], course=str(small_pack), cwd=tmp_path)

    def kernel(*inputs):
        return SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=["", *inputs, "%check x"]))

    assert unsaved_changes(kernel(saved + "\n\n"), plan) == []
    assert unsaved_changes(kernel("import torch"), plan) == []
    warned = unsaved_changes(kernel(saved, "def subsequent_mask(size, device=None):\n    return 0\n"), plan)
    assert len(warned) == 1 and "In [2]" in warned[0] and "save the notebook" in warned[0]


def test_report_html_escapes_and_makes_the_diagnosis_stand_out() -> None:
    from dl_course.grading.result import CheckResult, ExerciseResult
    from dl_course.jupyter import Report

    result = ExerciseResult("subsequent_mask", "The <mask>", False, 5.0, 10,
                            {"id": "upper_triangular", "message": "sees the <future>"}, 0.2, 7, ["cpu"],
                            [CheckResult("shape", "Shape", True, "passed"),
                             CheckResult("values", "Values", False, "failed", "got <script>x</script>"),
                             CheckResult("device", "Device", False, "not_run", "not run")])
    html = Report([result], notebook="nb.ipynb")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'class="dl-course-diagnosis"' in html and "sees the &lt;future&gt;" in html
    assert "upper_triangular" in html and "%check subsequent_mask --seed 7" in html
    assert html.count("<tr>") == 4  # header + three checks


def test_find_notebook_rules(tmp_path: Path) -> None:
    from dl_course.errors import CourseError
    from dl_course.jupyter import find_notebook

    with pytest.raises(CourseError, match="no notebook"):
        find_notebook(cwd=tmp_path)
    a = write_nb(tmp_path / "a.ipynb", [exercise_cell("subsequent_mask", "x = 1")])
    assert find_notebook(cwd=tmp_path) == a
    b = write_nb(tmp_path / "b.ipynb", [exercise_cell("padding_mask", "x = 1")])
    assert find_notebook(exercise_ids=["padding_mask"], cwd=tmp_path) == b
    with pytest.raises(CourseError, match="several notebooks"):
        find_notebook(exercise_ids=["gru_cell"], cwd=tmp_path)
    kernel = SimpleNamespace(user_ns={"__session__": str(tmp_path / "b.ipynb")})
    assert find_notebook(ip=kernel, cwd=tmp_path) == b
    assert find_notebook("a.ipynb", cwd=tmp_path) == a


def test_import_dl_course_stays_cheap() -> None:
    code = ("import sys, dl_course\nassert callable(dl_course.check) and callable(dl_course.load_ipython_extension)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'IPython', 'nbformat', 'rich')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# The magic, in a real kernel


def test_check_magic_in_a_real_kernel(tmp_path: Path, small_pack: Path, monkeypatch) -> None:
    from nbclient import NotebookClient

    work = tmp_path / "work"
    work.mkdir()
    (work / "dl-course.toml").write_text("format_version = 1\n")
    monkeypatch.setenv("DL_COURSE_PACK", str(small_pack))
    # The learner's saved notebook: the known mistake in the tagged cell.
    write_nb(work / "chapter09.ipynb", [v4.new_code_cell("%load_ext dl_course"),
                                        exercise_cell("subsequent_mask", MISTAKE)])
    # What the kernel runs: the same cell, then a different (unsaved) version, then the checks.
    session = v4.new_notebook(cells=[
        v4.new_code_cell("%load_ext dl_course"),
        v4.new_code_cell(MISTAKE),
        v4.new_code_cell("%check subsequent_mask --device cpu"),
        v4.new_code_cell("def subsequent_mask(size, device=None):\n    return None\n"),
        v4.new_code_cell("import dl_course\ndl_course.check('nope', notebook='chapter09.ipynb')"),
        v4.new_code_cell("%check subsequent_mask --seed x"),
        v4.new_code_cell("dl_course.check('subsequent_mask', device='cpu')"),
    ])
    NotebookClient(session, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(work)}}).execute()

    def shown(cell):
        outs = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
        assert outs, cell.outputs
        return outs[-1].data

    first = shown(session.cells[2])
    assert 'data-exercise="subsequent_mask"' in first["text/html"] and 'data-passed="false"' in first["text/html"]
    assert 'class="dl-course-diagnosis"' in first["text/html"] and "upper_triangular" in first["text/html"]
    assert "dl-course-unsaved" not in first["text/html"]
    assert "known mistake: upper_triangular" in first["text/plain"]
    error = shown(session.cells[4])
    assert 'class="dl-course-error"' in error["text/html"] and "no exercise 'nope'" in error["text/plain"]
    bad_seed = shown(session.cells[5])
    assert "--seed needs a whole number" in bad_seed["text/plain"]
    # The kernel ran a definition that is not in the saved file: the result says so, and grades the file.
    unsaved = shown(session.cells[6])
    assert 'class="dl-course-unsaved"' in unsaved["text/html"] and "In [4]" in unsaved["text/plain"]
    assert "upper_triangular" in unsaved["text/html"]
    # Both attempts were recorded in the workspace's store.
    proc = Cli(work, small_pack).json("list")
    rows = {r["id"]: r for c in proc[1]["chapters"] for r in c["exercises"]}
    assert rows["subsequent_mask"]["attempts"] == 2 and rows["subsequent_mask"]["status"] == "failed"


@pytest.mark.slow
def test_builtin_chapter_notebooks_run_in_a_kernel_and_references_pass(tmp_path: Path) -> None:
    """Every built-in chapter as a notebook: the starters run top to bottom in a kernel (support files
    import), and with each tagged cell holding the reference every exercise passes."""
    import ast

    from nbclient import NotebookClient

    from dl_course.course import load_pack

    pack = load_pack(None)
    cli = Cli(tmp_path, None)
    for chapter in pack.chapters:
        assert cli("notebook", chapter.id).returncode == 0
        path = tmp_path / f"{chapter.folder}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        run = nbformat.from_dict(json.loads(json.dumps(nb)))
        for cell in run.cells:
            if cell.cell_type == "code" and cell.source.startswith("%check"):
                cell.source = "pass"
        NotebookClient(run, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                       ).execute()
        for cell in nb.cells:
            exercise_id = cell.metadata.get("dl_course", {}).get("exercise")
            if exercise_id:
                ex = pack.exercises[exercise_id]
                text = ex.solution.read_text()
                lines = text.splitlines()
                for node in ast.parse(text).body:
                    if isinstance(node, ast.ImportFrom) and node.module in ex.uses:
                        for i in range(node.lineno - 1, node.end_lineno):
                            lines[i] = "# " + lines[i]
                cell.source = "\n".join(lines) + "\n"
        nbformat.write(nb, str(path))
        code, report = cli.json("check", path.name, "--device", "cpu", timeout=900)
        failed = [r["exercise"] for r in report["results"] if not r["passed"]]
        assert code == 0 and not failed, failed
        assert [r["exercise"] for r in report["results"]] == list(chapter.exercises)
