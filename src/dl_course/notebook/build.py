"""Writing a chapter's notebook from the course pack (`dl-course notebook chapter9`).

The lesson as Markdown cells (split at its sections, headings one level down), and after the
lesson that names it most each exercise: an introduction, its starter in a code cell tagged
`dl-course:ID` (`starter_for_notebook`), a `%check ID` cell and a "try it" cell tagged
`dl-course-skip`. `write_notebook` puts it in the workspace and replaces an existing notebook
only when its cells are exactly as dl-course wrote them.

Nothing here imports torch; nbformat is imported only when a notebook is written.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from dl_course.course.loader import read_lessons
from dl_course.course.model import Chapter, Exercise, Pack
from dl_course.errors import NotebookError
from dl_course.notebook.read import META, SKIP_TAG, TAG_PREFIX, _nbformat, _source_text
from dl_course.workspace import Workspace, create_workspace, write_new

__all__ = ["NotebookReport", "build_notebook", "write_notebook", "starter_for_notebook"]

FORMAT = 1
"""The version of the `dl_course` metadata a written notebook carries."""


def _prose_lines(text: str) -> Iterator[tuple[str, bool]]:
    """Each line of Markdown with whether it is prose (outside a ``` or ~~~ code fence, and not
    a fence line itself): a `#` inside code is a comment, not a heading."""
    fence = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
            fence = stripped[:3]
            yield line, False
        elif fence is not None:
            if stripped.startswith(fence):
                fence = None
            yield line, False
        else:
            yield line, True


def _split_lesson(text: str) -> list[str]:
    """A lesson's Markdown as cells, one per `#`/`##` section (never inside a code fence)."""
    parts, current = [], []
    for line, prose in _prose_lines(text):
        if prose and re.match(r"#{1,2} ", line) and any(x.strip() for x in current):
            parts.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(x.strip() for x in current):
        parts.append("\n".join(current).strip("\n"))
    return parts


def _placement(pack: Pack, chapter: Chapter, lessons: list[str]) -> dict[int, list[str]]:
    """After which lesson each exercise goes: the one that names it most (ties: the earliest), never
    before an exercise that comes earlier in the chapter; an exercise no lesson names goes last."""
    place: dict[int, list[str]] = {}
    floor = 0
    for exercise_id in chapter.exercises:
        counts = [len(re.findall(rf"\b{re.escape(exercise_id)}\b", text)) for text in lessons]
        best = max(range(len(lessons)), key=lambda i: (counts[i], -i)) if lessons and max(counts) > 0 else None
        at = len(lessons) - 1 if best is None else max(best, floor)
        floor = at
        place.setdefault(max(at, 0), []).append(exercise_id)
    return place


def starter_for_notebook(pack: Pack, exercise: Exercise) -> str:
    """The starter as a notebook cell: `dl-course check ID` / `dl-course hint ID` in its docstring read
    `%check ID` / `%hint ID` (what a notebook runs), and imports of earlier exercises' files are
    commented out: in a notebook those names come from the earlier exercises' cells above."""
    text = _notebook_commands(exercise.starter.read_text(encoding="utf-8"))
    if not exercise.uses:
        return text
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in exercise.uses and node.level == 0:
            for i in range(node.lineno - 1, (node.end_lineno or node.lineno)):
                lines[i] = "# " + lines[i]
            lines[node.lineno - 1] += f"  # in this notebook: defined in the {node.module} cell above"
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _notebook_commands(text: str) -> str:
    """`dl-course check ID` → `%check ID` and `dl-course hint ID` → `%hint ID`: in a notebook, the magics."""
    return re.sub(r"\bdl-course\s+(check|hint)\b(?!\s+\S+\.ipynb)", r"%\1", text)


def _demote_headings(text: str) -> str:
    """Every Markdown heading one level down (`#` → `##`), outside code fences: in the notebook the
    chapter's title is the only `#` heading."""
    out = []
    for line, prose in _prose_lines(text):
        out.append("#" + line if prose and re.match(r"#{1,5} ", line) else line)
    return "\n".join(out)


def _sources_digest(cells: list[Any]) -> str:
    h = hashlib.sha256()
    for cell in cells:
        h.update(json.dumps([cell.get("cell_type"), _source_text(cell.get("source"))]).encode())
    return h.hexdigest()


def build_notebook(pack: Pack, chapter: Chapter, notebook_dir: Path, chapter_dir: Path):
    """The chapter's notebook (an nbformat v4 node)."""
    nbformat = _nbformat()
    v4 = nbformat.v4
    lessons = read_lessons(chapter)
    supports = any(pack.exercises[e].support for e in chapter.exercises)
    cells = [v4.new_markdown_cell(
        f"# Chapter {chapter.number}: {chapter.title}\n\n{' '.join(chapter.summary.split())}\n\n"
        "**How this notebook is graded.** Each exercise has a code cell tagged `dl-course:ID`: fill it in, "
        "**save the notebook**, then run the `%check ID` cell below it (or `dl-course check "
        "THIS.ipynb ID` in a terminal). An exercise is graded like *Restart & Run All* stopping after its "
        "cell: every code cell from the top down to the exercise's cell runs, except cells tagged "
        f"`{SKIP_TAG}` (such as the *Try it* cells, for your experiments), and except a cell above that is not "
        "valid Python and that the exercise does not need. Stuck? Run `%hint ID`.", metadata={META: {"role": "intro"}})]
    setup = "%load_ext dl_course\n"
    if supports:
        rel = os.path.relpath(chapter_dir, notebook_dir)
        setup += (f"\n# The chapter's provided files (e.g. support modules) live in {rel}/.\n"
                  f"import sys\nif {rel!r} not in sys.path:\n    sys.path.insert(0, {rel!r})\n")
    cells.append(v4.new_code_cell(setup, metadata={META: {"role": "setup"}}))
    place = _placement(pack, chapter, lessons)
    for i, text in enumerate(lessons or [""]):
        for j, part in enumerate(_split_lesson(text)):
            part = _demote_headings(part)
            first, _, rest = part.partition("\n")
            if i == 0 and j == 0 and re.match(rf"## Chapter {chapter.number}\b", first):
                part = rest.strip("\n")  # the chapter's title, already the notebook's heading
                if not part:
                    continue
            cells.append(v4.new_markdown_cell(part))
        for exercise_id in place.get(i, []):
            ex = pack.exercises[exercise_id]
            intro = f"### Exercise: {ex.title} · `{ex.id}` · {ex.points} points"
            if ex.summary:
                intro += f"\n\n{' '.join(ex.summary.split())}"
            if ex.uses:
                intro += "\n\nIt builds on your " + ", ".join(f"`{u}`" for u in ex.uses) + " (the cells above)."
            intro += ("\n\nFill in the cell below (tagged `dl-course:" + ex.id + "`), save the notebook, then run "
                      f"`%check {ex.id}`.")
            cells.append(v4.new_markdown_cell(intro, metadata={META: {"role": "exercise-intro"}}))
            cells.append(v4.new_code_cell(starter_for_notebook(pack, ex),
                                          metadata={META: {"exercise": ex.id}, "tags": [f"{TAG_PREFIX}{ex.id}"]}))
            cells.append(v4.new_code_cell(f"%check {ex.id}", metadata={META: {"role": "check"}}))
            cells.append(v4.new_code_cell(f"# Try your {ex.id} here. This cell is tagged {SKIP_TAG}: grading "
                                          "leaves it out.\n",
                                          metadata={META: {"role": "scratch"}, "tags": [SKIP_TAG]}))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata[META] = {"format": FORMAT, "chapter": chapter.id, "generated": _sources_digest(cells)}
    return nb


@dataclass
class NotebookReport:
    path: Path
    workspace: Workspace
    created_workspace: bool
    chapter_id: str
    status: str
    """created | updated (an unedited notebook refreshed) | unchanged | kept (it has your edits)"""
    files: list[tuple[Path, bool]] = field(default_factory=list)
    """Support files written into the chapter folder: (path, created)."""

    @property
    def display(self) -> str:
        return self.workspace.display(self.path)


def write_notebook(chapter: str, output: str | None = None, course: str | None = None,
                   cwd: Path | None = None) -> NotebookReport:
    """Write the chapter's notebook into the workspace (created here if there is none).

    An existing notebook is replaced only when its cells are exactly as dl-course wrote them;
    one with the learner's edits is kept (status "kept")."""
    from dl_course.service import open_course

    cwd = (cwd or Path.cwd()).resolve()
    ctx = open_course(course, cwd)
    chap = ctx.pack.chapter(chapter)
    created_ws = ctx.workspace is None
    ws = ctx.workspace or create_workspace(cwd, course)
    if output:
        path = Path(output).expanduser()
        path = (path if path.is_absolute() else cwd / path).resolve()
        if path.suffix.lower() != ".ipynb":
            path = path.with_name(path.name + ".ipynb")
    else:
        path = ws.root.resolve() / f"{chap.folder}.ipynb"
    root = ws.root.resolve()
    if root != path.parent and root not in path.parents:
        raise NotebookError(f"{path}: a notebook must be inside your workspace ({root}), where your progress is kept")
    if path.parent.resolve() == (root / ws.state_dir.name).resolve() or ws.state_dir.resolve() in path.parents:
        raise NotebookError(f"{path}: {ws.state_dir.name}/ is dl-course's own folder; choose another place")
    chapter_dir = ws.chapter_dir(chap)
    nb = build_notebook(ctx.pack, chap, path.parent, chapter_dir)
    files = []
    for exercise_id in chap.exercises:
        ex = ctx.pack.exercises[exercise_id]
        for name in ex.support:
            chapter_dir.mkdir(parents=True, exist_ok=True)
            target = chapter_dir / name
            files.append((target, write_new(target, ex.support_file(name).read_text(encoding="utf-8"))))
    nbformat = _nbformat()
    text = nbformat.writes(nb)
    status = "created"
    if path.exists():
        state = _existing_state(path, nb)
        if state != "replace":
            return NotebookReport(path, ws, created_ws, chap.id, state, files)
        status = "updated"
    path.parent.mkdir(parents=True, exist_ok=True)
    if status == "created":
        if not write_new(path, text):
            return NotebookReport(path, ws, created_ws, chap.id, "kept", files)
    else:
        tmp = path.with_name(f".{path.name}.dl-course-tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return NotebookReport(path, ws, created_ws, chap.id, status, files)


def _existing_state(path: Path, fresh: Any) -> str:
    """unchanged (already what we would write), replace (untouched since we wrote it), or kept."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        cells = data["cells"]
        written = data.get("metadata", {}).get(META, {}).get("generated")
        current = _sources_digest(cells)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return "kept"
    if current == fresh.metadata[META]["generated"]:
        return "unchanged"
    return "replace" if written == current else "kept"
