"""`%check` in one real kernel (nbclient), shared by the tests below: a broken cell that an exercise does
not need is left out, `dl_course.check()` returns the result, the HTML draws the heatmaps, the plain
text names `%check`/`%hint`, and the judge is warm from `%load_ext`. Also: the generated notebooks
have one H1 and name the magics (no kernel needed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from conftest import EXE, Cli, make_pack, reference_source

v4 = nbformat.v4

MISTAKE = '''import torch


def subsequent_mask(size, device=None):
    # the upper triangle: each position sees the future (a known mistake)
    return torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)
'''

BROKEN_HELPER = '''# a helper with a syntax error
def helper(mask:
    return mask
'''

USES_HELPER = '''import torch


def subsequent_mask(size, device=None):
    return helper(torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0))
'''


def tagged(exercise_id: str, source: str):
    return v4.new_code_cell(source, metadata={"dl_course": {"exercise": exercise_id},
                                              "tags": [f"dl-course:{exercise_id}"]})


SESSION = [
    # 0: the judge starts warming as the extension loads
    "%load_ext dl_course\nimport dl_course, time\n"
    "print('WARM AT LOAD', dl_course.jupyter._warm is not None and dl_course.jupyter._warm._spare is not None)",
    # 1: below a broken cell it does not need: graded (the known mistake), with a note and a heatmap
    "%check mask_c --device cpu",
    # 2: below a broken cell it needs (it calls helper): stopped, naming the cell
    "%check mask_b --device cpu",
    # 3: the function returns the report, shown once
    "r = dl_course.check('subsequent_mask', device='cpu')",
    # 4: what the report exposes
    "print('REPORT', type(r).__name__, r.passed, r.score, r.max_score, len(r.checks), "
    "r['subsequent_mask'].passed, all(c.passed for c in r.checks), r.checks[0].name)",
    # 5: the report is shown again when asked for in another cell
    "r",
    # 6: as a cell's last line: shown once, not twice
    "dl_course.check('mask_c', device='cpu')",
]


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> dict:
    from nbclient import NotebookClient

    root = tmp_path_factory.mktemp("kernel")
    pack = make_pack(root / "pack", clones={"mask_b": {}, "mask_c": {}})
    work = root / "work"
    work.mkdir()
    (work / "dl-course.toml").write_text("format_version = 1\n")
    saved = [v4.new_code_cell("%load_ext dl_course"),          # cell 1
             tagged("subsequent_mask", reference_source()),   # cell 2
             v4.new_code_cell(BROKEN_HELPER),                 # cell 3: not valid Python
             tagged("mask_b", USES_HELPER),                   # cell 4: needs cell 3
             tagged("mask_c", MISTAKE)]                       # cell 5: does not
    nbformat.write(v4.new_notebook(cells=saved), str(work / "chapter09.ipynb"))
    nb = v4.new_notebook(cells=[v4.new_code_cell(c) for c in SESSION])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_COURSE_PACK", str(pack))
        mp.delenv("DL_COURSE_NO_WARM", raising=False)
        NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(work)}}).execute()
    return {"cells": nb.cells, "work": work, "pack": pack}


def shown(cell) -> list[dict]:
    return [o.data for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def printed(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def test_a_broken_cell_blocks_only_the_exercises_that_need_it(session) -> None:
    cells = session["cells"]
    unrelated = shown(cells[1])[-1]
    html, text = unrelated["text/html"], unrelated["text/plain"]
    # mask_c was graded: its known mistake is named, and the note says which cell was left out and why.
    assert 'data-exercise="mask_c"' in html and "upper_triangular" in html
    assert 'class="dl-course-note"' in html
    assert "cell 3 was left out of mask_c" in text and "SyntaxError, line 2" in text and "(helper)" in text
    # mask_b calls helper, defined in the broken cell: that cell stops its check, and says why.
    needs = shown(cells[2])[-1]["text/plain"]
    assert "cell 3, line 2: SyntaxError" in needs and "uses helper, defined here" in needs, needs
    # The attempt was recorded for mask_c, not for mask_b.
    code, listing = Cli(session["work"], session["pack"]).json("list")
    rows = {r["id"]: r for c in listing["chapters"] for r in c["exercises"]}
    assert rows["mask_c"]["attempts"] == 2 and rows["mask_b"]["attempts"] == 0


def test_check_returns_the_report_and_shows_it_once(session) -> None:
    cells = session["cells"]
    assert len(shown(cells[3])) == 1  # shown by check(); the assignment shows nothing more
    fields = printed(cells[4]).split()
    assert fields[:2] == ["REPORT", "Report"], fields
    passed, score, max_score, n_checks, one, every = fields[2:8]
    assert passed == "True" and one == "True" and every == "True"
    assert float(score) == float(max_score) > 0 and int(n_checks) >= 3
    again = shown(cells[5])
    assert len(again) == 1 and 'data-exercise="subsequent_mask"' in again[0]["text/html"]
    # As a cell's last line, the report is shown once (by check), not a second time as the cell's value.
    last = shown(cells[6])
    assert len(last) == 1 and 'data-exercise="mask_c"' in last[0]["text/html"]


def test_the_html_draws_the_heatmaps(session) -> None:
    passed = shown(session["cells"][3])[-1]["text/html"]
    assert '<figure class="dl-course-figure"' in passed and "yours · all match" in passed
    html = shown(session["cells"][1])[-1]["text/html"]
    figure = re.search(r'<figure class="dl-course-figure".*?</figure>', html, re.S)
    assert figure, html[:2000]
    svg = figure.group(0)
    assert "<svg" in svg and "the mask (row: query position, column: key position)" in svg
    assert "expected (the reference)" in svg and re.search(r"yours · \d+ of \d+ differ", svg)
    assert 'stroke="#ff2d2d"' in svg  # the cells that differ are crossed
    assert "<script" not in svg.lower()


def test_plain_text_names_the_magics(session) -> None:
    ok = shown(session["cells"][3])[-1]["text/plain"]
    assert "Well done. Next: `%check mask_b`" in ok and "dl-course" not in ok, ok
    text = shown(session["cells"][1])[-1]["text/plain"]
    assert "`%check mask_c`" in text and "`%hint mask_c`" in text and "`%check mask_c --seed " in text
    assert "dl-course check" not in text and "dl-course hint" not in text


def test_the_judge_is_warm_from_load_ext(session) -> None:
    assert "WARM AT LOAD True" in printed(session["cells"][0])


def _headings(markdown: list[str]) -> list[str]:
    out, fence = [], None
    for text in markdown:
        for line in text.splitlines():
            s = line.lstrip()
            if fence is None and s[:3] in ("```", "~~~"):
                fence = s[:3]
            elif fence is not None and s.startswith(fence):
                fence = None
            elif fence is None and line.startswith("#"):
                out.append(line)
    return out


def test_builtin_notebooks_have_one_h1_and_name_the_magics(tmp_path: Path) -> None:
    from dl_course.course import load_pack

    for chapter in load_pack(None).chapters:
        proc = subprocess.run([EXE, "notebook", chapter.id], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env={k: v for k, v in __import__("os").environ.items()
                                               if k != "DL_COURSE_PACK"})
        assert proc.returncode == 0, proc.stderr
        nb = nbformat.read(str(tmp_path / f"{chapter.folder}.ipynb"), as_version=4)
        h1 = [h for h in _headings([c.source for c in nb.cells if c.cell_type == "markdown"]) if h.startswith("# ")]
        assert h1 == [f"# Chapter {chapter.number}: {chapter.title}"], h1
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "dl-course check" not in code and "dl-course hint" not in code
        assert "%check" in code
