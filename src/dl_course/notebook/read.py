"""Reading a notebook and grading its exercises (see `dl_course.notebook` for the rules).

The cells as read and validated (`read_cells`, `exercise_cells`), one exercise's cells put
together as one Python file (`assemble`), an error's line in that file named as "cell C, line M"
(`locate_line`, `map_result`), and the plan that writes those files and grades them
(`plan_check`, `NotebookCheck`). The tags and metadata that mark an exercise's cell are defined
here; `build` writes them.

Nothing here imports torch; nbformat is imported only when a notebook is read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dl_course.course.model import Exercise, Pack
from dl_course.errors import CourseError, NotebookError

__all__ = ["TAG_PREFIX", "SKIP_TAG", "NotebookCell", "Assembled", "NotebookCheck", "read_cells", "exercise_cells",
           "assemble", "plan_check", "locate_line", "map_result", "load_notebook", "python_source"]

TAG_PREFIX = "dl-course:"
"""A code cell tagged `dl-course:ID` holds exercise ID."""
SKIP_TAG = "dl-course-skip"
"""A cell with this tag is never part of grading."""
META = "dl_course"


# --------------------------------------------------------------------------------------------
# Reading a notebook


@dataclass(frozen=True)
class NotebookCell:
    index: int
    """0-based position among all cells."""
    kind: str
    source: str
    exercise: str | None = None
    skip: bool = False

    @property
    def number(self) -> int:
        """How messages name the cell: 1-based, counting every cell (Markdown too)."""
        return self.index + 1

    def label(self) -> str:
        return f"cell {self.number}" + (f" ({self.exercise})" if self.exercise else "")


def _source_text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def _nbformat():
    try:
        import nbformat
    except ImportError:  # pragma: no cover - a declared dependency
        raise CourseError("reading notebooks needs nbformat: pip install nbformat") from None
    return nbformat


def load_notebook(path: Path, display: str | None = None):
    """Read and validate a notebook (any nbformat ≥ 4, or 3 converted). Errors say what and where."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a byte-order mark
    except FileNotFoundError:
        raise NotebookError(f"{name}: no such notebook") from None
    except (OSError, UnicodeDecodeError) as e:
        raise NotebookError(f"{name}: cannot be read ({e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{name}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); a notebook is "
                            "a JSON file: open it in Jupyter to repair it, or write a fresh one with "
                            "`dl-course notebook CHAPTER --output NAME`") from None
    if not isinstance(data, dict):
        raise NotebookError(f"{name}: not a notebook (the JSON is a {type(data).__name__}, not an object)")
    version = data.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool):
        raise NotebookError(f"{name}: not a notebook (no integer 'nbformat' field)")
    if version > 4:
        raise NotebookError(f"{name}: nbformat {version} is newer than this program reads (4)")
    if version == 4:
        _precheck_cells(data, name)
    nbformat = _nbformat()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = nbformat.reads(text, as_version=4)
        except Exception as e:  # noqa: BLE001 - nbformat raises many kinds on a broken file
            raise NotebookError(f"{name}: not a valid notebook ({type(e).__name__}: {e})") from None
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as e:
            raise NotebookError(f"{name}: not a valid notebook (nbformat 4): {_where(e)}{_short(e)}") from None
    return nb


def _precheck_cells(data: dict, name: str) -> None:
    """Clear messages for the usual breakages, before the schema's own (long) ones."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f"{name}: not a valid notebook: 'cells' must be a list")
    for i, cell in enumerate(cells):
        where = f"{name}: not a valid notebook: cell {i + 1}"
        if not isinstance(cell, dict):
            raise NotebookError(f"{where} is a {type(cell).__name__}, not an object")
        kind = cell.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            raise NotebookError(f"{where}: 'cell_type' must be code, markdown or raw, got {kind!r}")
        source = cell.get("source")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise NotebookError(f"{where}: 'source' must be a string or a list of strings, got {source!r:.60}")
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict):
            raise NotebookError(f"{where}: 'metadata' must be an object")
        tags = meta.get("tags", [])
        if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise NotebookError(f"{where}: 'metadata.tags' must be a list of strings, got {tags!r:.60}")
        ours = meta.get(META, {})
        if not isinstance(ours, dict) or not isinstance(ours.get("exercise", ""), str):
            raise NotebookError(f"{where}: 'metadata.{META}' must be an object like {{\"exercise\": \"ID\"}}")


def _where(e: Any) -> str:
    path = list(getattr(e, "absolute_path", None) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[2:]).lstrip(".")
        return f"cell {path[1] + 1}" + (f", field '{rest}'" if rest else "") + ": "
    if path:
        return "field '" + ".".join(str(p) for p in path) + "': "
    return ""


def _short(e: Any) -> str:
    message = str(getattr(e, "message", None) or e).strip().splitlines()[0]
    return message if len(message) <= 200 else message[:197] + "…"


def _cell_exercise(cell: Any, number: int, name: str) -> tuple[str | None, bool]:
    meta = cell.get("metadata", {}) or {}
    tags = list(meta.get("tags", []) or [])
    ours = meta.get(META, {}) or {}
    ids = set()
    if ours.get("exercise"):
        ids.add(str(ours["exercise"]))
    skip = SKIP_TAG in tags or bool(ours.get("skip"))
    for tag in tags:
        if tag.startswith(TAG_PREFIX):
            value = tag[len(TAG_PREFIX):]
            if value == "skip":
                skip = True
            elif value:
                ids.add(value)
    if len(ids) > 1:
        raise NotebookError(f"{name}: cell {number} is tagged for more than one exercise "
                            f"({', '.join(sorted(ids))}); one cell holds one exercise")
    exercise = ids.pop() if ids else None
    if exercise and cell.get("cell_type") != "code":
        raise NotebookError(f"{name}: cell {number} is tagged for {exercise} but is a {cell.get('cell_type')} cell; "
                            "the tag belongs on the code cell that holds the exercise")
    return exercise, skip


def read_cells(path: Path, display: str | None = None) -> list[NotebookCell]:
    nb = load_notebook(path, display)
    name = display or str(path)
    cells = []
    for i, cell in enumerate(nb.cells):
        exercise, skip = _cell_exercise(cell, i + 1, name)
        cells.append(NotebookCell(i, cell.get("cell_type", ""), _source_text(cell.get("source")), exercise, skip))
    return cells


def exercise_cells(cells: list[NotebookCell], pack: Pack, display: str) -> dict[str, NotebookCell]:
    """Exercise id → its cell, in notebook order. Two cells with one tag, or a tag for no exercise, are errors."""
    found: dict[str, NotebookCell] = {}
    for cell in cells:
        if cell.exercise is None:
            continue
        if cell.exercise not in pack.exercises:
            raise NotebookError(f"{display}: cell {cell.number} is tagged for {cell.exercise!r}, which is not an "
                                "exercise of this course; fix the tag (`dl-course list` shows the exercise ids)")
        if cell.exercise in found:
            raise NotebookError(f"{display}: cells {found[cell.exercise].number} and {cell.number} are both tagged "
                                f"for {cell.exercise}; keep the tag `{TAG_PREFIX}{cell.exercise}` on one of them")
        found[cell.exercise] = cell
    return found


# --------------------------------------------------------------------------------------------
# Putting the cells of one exercise together


@dataclass
class Assembled:
    exercise: str
    source: str
    spans: list[tuple[NotebookCell, int, int]] = field(default_factory=list)
    """(cell, first line in `source`, number of lines) for every cell included."""
    left_out: list[tuple[NotebookCell, str]] = field(default_factory=list)
    """Cells above that are not valid Python and that the exercise does not need: (cell, why)."""

    def locate(self, line: int) -> tuple[NotebookCell, int] | None:
        for cell, first, count in self.spans:
            if first <= line < first + count:
                return cell, line - first + 1
        return None


_IPY_LINE = re.compile(r"^(\s*)([%!].*|\?.*|[\w.]+\?\??)$")
_PYTHON_BODY_MAGICS = {"time", "timeit", "capture", "prun"}
"""Cell magics whose body is Python the learner wrote: the body is kept, the magic line dropped."""


def python_source(cell: NotebookCell) -> str | None:
    """The cell as plain Python: itself when it compiles, else with IPython lines (`%magic`, `!shell`,
    `name?`) turned into `pass`. None for a cell magic (`%%bash` …) whose body is not Python;
    under `%%time`, `%%timeit`, `%%capture` and `%%prun` the body is kept."""
    text = cell.source
    try:
        compile(text, "<cell>", "exec", dont_inherit=True)
        return text
    except SyntaxError:
        pass
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if name not in _PYTHON_BODY_MAGICS:
            return None
    out = []
    for ln in text.splitlines():
        m = _IPY_LINE.match(ln)
        out.append(f"{m.group(1)}pass  # IPython: {m.group(2)}" if m else ln)
    return "\n".join(out)


def _syntax_error(display: str, exercise: str, cell: NotebookCell, e: SyntaxError, line: int | None,
                  why: str = "") -> NotebookError:
    where = f"{display}: {cell.label()}, line {line}" if line else f"{display}: {cell.label()}"
    text = (e.text or "").rstrip("\n")
    caret = ""
    if text.strip():
        caret = f"\n    {text.strip()}"
    role = "" if cell.exercise == exercise else \
        f" (this cell runs before {exercise}'s cell when it is graded" + (f", and {why}" if why else "") + ")"
    return NotebookError(f"{where}: SyntaxError: {e.msg}{role}{caret}")


def assemble(cells: list[NotebookCell], target: NotebookCell, display: str, uses: tuple[str, ...] | list[str] = ()
             ) -> Assembled:
    """Exercise `target.exercise` as one file: the code cells from the top down to its cell (see the
    doc of `dl_course.notebook`). A cell above that is not valid Python stops the check only when the
    exercise needs it (see `dl_course.notebook_deps`; `uses`: the exercises this one builds on);
    otherwise it is left out, and `Assembled.left_out` says so."""
    from dl_course.notebook_deps import names_of, names_of_broken, needed_names

    exercise = target.exercise or ""
    # Line 1 is an explicit encoding cookie: Python reads one in either of the first two lines, and
    # words such as "positional_encoding: edit" would otherwise be taken for one.
    lines = ["# -*- coding: utf-8 -*-",
             f"# Put together by dl-course from {display} to grade {exercise}; edit the notebook, not this file.",
             "# Every code cell from the top down to the exercise's cell, less cells tagged dl-course-skip.", ""]
    # First pass: which cells run, and which do not compile.
    chosen: list[tuple[NotebookCell, str, SyntaxError | None]] = []
    for cell in cells[:target.index + 1]:
        if cell.kind != "code" or (cell.skip and cell is not target):
            continue
        text = python_source(cell)
        if text is None:
            continue
        try:
            compile(text, "<cell>", "exec", dont_inherit=True)
            chosen.append((cell, text, None))
        except SyntaxError as e:
            if cell is target:
                raise _syntax_error(display, exercise, cell, e, e.lineno) from None
            chosen.append((cell, text, e))
    left_out: list[tuple[NotebookCell, str]] = []
    if any(error is not None for _, _, error in chosen):
        valid = {id(cell): names_of(text) for cell, text, error in chosen if error is None}
        needed = needed_names(valid[id(target)], [valid[id(c)] for c, _, e in chosen if e is None and c is not target])
        bound = set().union(*(n.defines for n in valid.values()))
        for cell, text, error in chosen:
            if error is None:
                continue
            broken = names_of_broken(text)
            wanted = sorted((broken.defines - (broken.imported & bound)) & needed)
            if cell.exercise and cell.exercise in uses:
                why = f"{exercise} builds on {cell.exercise}"
            elif wanted:
                why = (f"the code graded for {exercise} uses {', '.join(wanted[:4])}{'…' if len(wanted) > 4 else ''}, "
                       "defined here")
            elif broken.star:
                why = "its `import *` may define names the exercise needs"
            else:
                what = ", ".join(sorted(broken.defines)[:4]) or "nothing it could read"
                left_out.append((cell, f"{display}: {cell.label()} was left out of {exercise}: it is not valid Python "
                                       f"(SyntaxError, line {error.lineno}: {error.msg}), and {exercise} does not use "
                                       f"what it defines ({what}). Fix it before you check the exercise that needs it."))
                continue
            raise _syntax_error(display, exercise, cell, error, error.lineno, why) from None
    spans = []
    skipped = {id(c) for c, _ in left_out}
    for cell, text, error in chosen:
        if id(cell) in skipped:
            lines.append(f"# cell {cell.number}" + (f" ({cell.exercise})" if cell.exercise else "") +
                         f": left out (not valid Python, and {exercise} does not need it)")
            lines.append("")
            continue
        body = text.split("\n")
        if body and body[-1] == "":
            body.pop()
        lines.append(f"# cell {cell.number}" + (f" ({cell.exercise})" if cell.exercise else ""))
        spans.append((cell, len(lines) + 1, max(len(body), 1)))
        lines.extend(body or [""])
        lines.append("")
    result = Assembled(exercise, "\n".join(lines) + "\n", spans, left_out)
    try:
        compile(result.source, display, "exec", dont_inherit=True)
    except SyntaxError as e:  # e.g. a `from __future__` import below the first cell
        found = result.locate(e.lineno or 0)
        if found:
            raise _syntax_error(display, exercise, found[0], e, found[1]) from None
        raise NotebookError(f"{display}: the cells of {exercise} together are not valid Python: {e.msg}") from None
    return result


def locate_line(assembled: Assembled, message: str, display: str, line: int | None = None,
                also: tuple[str, ...] = ()) -> tuple[str, int | None]:
    """Rewrite `display, line N` (and `"NAME", line N` for each name in `also`: how tracebacks name the
    put-together file) in a grader message as `display, cell C, line M`; map `line` the same way."""
    hits: list[NotebookCell] = []

    def sub(m: re.Match) -> str:
        found = assembled.locate(int(m.group(2)))
        if not found:
            return m.group(0)
        cell, cell_line = found
        hits.append(cell)
        return f"{display}{m.group(1)}, {cell.label()}, line {cell_line}"

    text = message
    for name in dict.fromkeys((display, *also)):
        text = re.sub(r"(?<![\w./-])" + re.escape(name) + r'("?),? line (\d+)', sub, text)
    cell = hits[0] if hits else None
    if cell is not None and cell.exercise is None:
        text += (f"\n  ({cell.label()} runs before {assembled.exercise}'s cell when it is graded; if it is only an "
                 f"experiment, tag it {SKIP_TAG} to leave it out)")
    mapped = None
    if line is not None:
        found = assembled.locate(line)
        mapped = found[1] if found else None
    return text, mapped


# --------------------------------------------------------------------------------------------
# Grading a notebook


@dataclass
class NotebookCheck:
    """What `dl-course check NOTEBOOK [ID…]` will grade; `run(...)` grades and records it."""

    ctx: Any
    """The service.Course the notebook belongs to."""
    path: Path
    display: str
    exercises: list[Exercise]
    assembled: dict[str, Assembled]
    files: dict[str, Path]
    cells: dict[str, NotebookCell]
    """Each exercise's own cell."""
    notebook_cells: list[NotebookCell] = field(default_factory=list)
    """Every cell of the saved notebook, as read."""

    @property
    def notes(self) -> list[str]:
        """What the learner should know about how the cells were put together (a broken cell left out)."""
        seen: dict[str, None] = {}
        for ex in self.exercises:
            for _, why in self.assembled[ex.id].left_out:
                seen.setdefault(why)
        return list(seen)

    def run(self, device: str = "auto", seed: int | None = None, on_progress: Callable[[Any], None] | None = None,
            on_metric: Callable[[dict], None] | None = None, warm: Any = None, record_now: bool = True) -> list[Any]:
        """Grade (on `warm`, a grading.runner.WarmJudge, when given) and record each attempt (at once,
        or with `record_now` False left in `ctx.pending` for `service.record_pending`)."""
        from dl_course import service
        from dl_course.grading.runner import Submission, grade
        from dl_course.workspace import code_hash

        subs = [Submission(ex, self.files[ex.id], self.display) for ex in self.exercises]
        options = dict(device=device, seed=seed, on_progress=on_progress, on_metric=on_metric)
        results = warm.grade(self.ctx.pack, subs, **options) if warm is not None else \
            grade(self.ctx.pack, subs, **options)
        for ex, result in zip(self.exercises, results):
            result.file = self.display
            map_result(self.assembled[ex.id], ex, result)
            self.ctx.pending.append((result, code_hash(self.files[ex.id])))
        if record_now:
            service.record_pending(self.ctx)
        return results


def map_result(assembled: Assembled, exercise: Exercise, result: Any) -> Any:
    """Name the lines of a graded notebook exercise as `cell C, line M` in its messages (in place).

    `result.file` is the notebook as the learner sees it; tracebacks name the put-together file as
    if it sat beside the notebook (`<notebook's folder>/<exercise file>`)."""
    display = result.file or ""
    also = (os.path.join(os.path.dirname(display), exercise.file),)
    for check in result.checks:
        check.message, check.line = locate_line(assembled, check.message, display, check.line, also)
    if result.error:
        result.error = locate_line(assembled, result.error, display, None, also)[0]
    return result


def plan_check(notebook: str | Path, names: list[str] | tuple[str, ...] = (), course: str | None = None,
               cwd: Path | None = None) -> NotebookCheck:
    """Read the notebook, find the exercises' cells, put each exercise's file together and write it."""
    from dl_course.service import open_course

    cwd = cwd or Path.cwd()
    path = Path(notebook).expanduser()
    path = (path if path.is_absolute() else cwd / path).resolve()
    if path.suffix.lower() != ".ipynb":
        raise NotebookError(f"{notebook}: not a notebook (expected a .ipynb file)")
    if not path.is_file():
        raise NotebookError(f"{notebook}: no such notebook" + ("" if path.parent.is_dir() else
                                                               f" (no folder {path.parent})"))
    ctx = open_course(course, path.parent)
    ws = ctx.workspace
    if ws is None:
        raise NotebookError(f"{notebook} is not inside a dl-course workspace, so there is nowhere to keep your "
                            "progress; write the notebook with `dl-course notebook chapter9` in your workspace")
    display = ws.display(path)
    cells = read_cells(path, display)
    tagged = exercise_cells(cells, ctx.pack, display)
    if names:
        chosen = []
        for name in names:
            from dl_course.service import exercise

            ex = exercise(ctx.pack, name)
            if ex.id not in tagged:
                chapter = ctx.pack.chapter_of(ex)
                raise NotebookError(f"{display}: no cell is tagged for {ex.id}; add the tag `{TAG_PREFIX}{ex.id}` "
                                    f"to the code cell that holds it, or get a fresh notebook with "
                                    f"`dl-course notebook {chapter.id} --output NAME`")
            if ex not in chosen:
                chosen.append(ex)
    else:
        chosen = [ctx.pack.exercises[i] for i in tagged]
        if not chosen:
            raise NotebookError(f"{display}: no cell is tagged for an exercise (a tag looks like "
                                f"`{TAG_PREFIX}subsequent_mask`); `dl-course notebook CHAPTER` writes one that is")
    assembled = {ex.id: assemble(cells, tagged[ex.id], display, ex.uses) for ex in chosen}
    folder = ws.state_dir / "notebooks" / path.stem
    _fresh_folder(folder)
    files = {}
    for ex in chosen:
        target = folder / ex.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(assembled[ex.id].source, encoding="utf-8")
        files[ex.id] = target
        # The provided support files of every exercise whose cell is included (their imports must work).
        included = {c.exercise for c, _, _ in assembled[ex.id].spans if c.exercise} | {ex.id}
        for other in included:
            for name in ctx.pack.exercises[other].support:
                shutil.copyfile(ctx.pack.exercises[other].support_file(name), folder / name)
    return NotebookCheck(ctx, path, display, chosen, assembled, files, {e.id: tagged[e.id] for e in chosen}, cells)


def _fresh_folder(folder: Path) -> None:
    if folder.is_dir():
        for old in folder.iterdir():
            if old.is_file() and old.suffix == ".py":
                old.unlink()
            elif old.is_dir() and old.name == "__pycache__":
                shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)

