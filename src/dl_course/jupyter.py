"""The IPython extension: `%load_ext dl_course`, then `%check subsequent_mask`.

`%check ID [ID…] [--seed N] [--device cpu] [--notebook PATH]` (or `dl_course.check("ID")`) grades
the exercise's cell from the SAVED notebook file, exactly as `dl-course check NOTEBOOK ID` does
(same grader, same isolation, same progress store), and shows the result as an HTML table with the
known-mistake diagnosis standing out. With no ID it grades every tagged cell of the notebook.
`%hint ID` shows the next hint.

Which notebook: `notebook=` when given; else the one the kernel says it runs (`__session__`,
`__vsc_ipynb_file__`, `JPY_SESSION_NAME`); else the only `.ipynb` in the current folder (of several,
the only one with a cell tagged for the exercise). Unsaved changes: when the code this kernel last
ran for the exercise's names (`def NAME` / `class NAME`) is in no code cell of the saved file, the
result says so — grading reads the file, so save first.

After the first check the kernel keeps one judge process started (a `WarmJudge`), so the next
check starts warm; it is stopped when the kernel exits.

IPython is imported only here, and only inside a kernel; torch never is (grading runs elsewhere).
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dl_course.errors import CourseError
from dl_course.textsafe import clean, html_text

__all__ = ["load_ipython_extension", "unload_ipython_extension", "check", "hint", "find_notebook", "unsaved_changes", "Report", "last"]

last: "Report | None" = None
"""The latest report shown, for code that wants its data (`dl_course.jupyter.last.results`)."""

_MARKS = {"passed": ("✓", "#1a7f37"), "failed": ("✗", "#cf222e"), "error": ("!", "#8250df"),
          "not_run": ("·", "#8c959f")}
_LEFT = "text-align:left;vertical-align:top;padding:2px 10px 2px 0"


_warm: Any = None
"""A grading.runner.WarmJudge kept by the kernel after its first check, so the next one starts warm."""


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magic_function(_check_magic, magic_kind="line", magic_name="check")
    ipython.register_magic_function(_hint_magic, magic_kind="line", magic_name="hint")


def unload_ipython_extension(ipython: Any) -> None:
    _close_warm()


def _close_warm() -> None:
    global _warm
    warm, _warm = _warm, None
    if warm is not None:
        warm.close()


def _warm_judge() -> Any:
    """The kernel's warm judge (created on the first check; the spare is started after each check)."""
    global _warm
    if _warm is None:
        import atexit

        from dl_course.grading.runner import WarmJudge

        _warm = WarmJudge()
        atexit.register(_close_warm)
    return _warm


# --------------------------------------------------------------------------------------------
# Finding the notebook


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _kernel_names(ip: Any) -> list[str]:
    names = []
    ns = getattr(ip, "user_ns", {}) or {}
    for key in ("__session__", "__vsc_ipynb_file__"):
        if isinstance(ns.get(key), str):
            names.append(ns[key])
    if os.environ.get("JPY_SESSION_NAME"):
        names.append(os.environ["JPY_SESSION_NAME"])
    return names


def _has_tag(path: Path, exercise_ids: list[str]) -> bool:
    from dl_course.notebook import META, TAG_PREFIX

    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        ours = meta.get(META) if isinstance(meta.get(META), dict) else {}
        tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
        if ours.get("exercise") in exercise_ids or any(f"{TAG_PREFIX}{e}" in tags for e in exercise_ids):
            return True
    return False


def find_notebook(notebook: str | os.PathLike | None = None, exercise_ids: list[str] | None = None,
                  ip: Any = None, cwd: Path | None = None) -> Path:
    """The notebook to grade (see the module doc for the order)."""
    cwd = cwd or Path.cwd()
    if notebook:
        path = Path(notebook).expanduser()
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise CourseError(f"{notebook}: no such notebook")
        return path
    for name in _kernel_names(ip):
        p = Path(name)
        if p.suffix.lower() != ".ipynb":
            continue
        for candidate in ((p,) if p.is_absolute() else (cwd / p, cwd / p.name)):
            if candidate.is_file():
                return candidate
    found = sorted(p for p in cwd.glob("*.ipynb") if p.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise CourseError(f"no notebook in {cwd}; say which: %check ID --notebook PATH")
    if exercise_ids:
        tagged = [p for p in found if _has_tag(p, exercise_ids)]
        if len(tagged) == 1:
            return tagged[0]
    names = ", ".join(p.name for p in found)
    raise CourseError(f"several notebooks here ({names}); say which: %check ID --notebook NAME.ipynb")


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


def unsaved_changes(ip: Any, plan: Any) -> list[str]:
    """Warnings for exercises whose latest run definition in this kernel is not in the saved file."""
    history = list(getattr(getattr(ip, "history_manager", None), "input_hist_raw", None) or [])
    if not history:
        return []
    history = history[:-1]  # the cell running the check itself
    from dl_course.notebook import read_cells

    try:
        saved = {_normal(c.source) for c in read_cells(plan.path, plan.display) if c.kind == "code"}
    except CourseError:
        return []
    warnings = []
    for ex in plan.exercises:
        names = "|".join(re.escape(n) for n in ex.defines)
        if not names:
            continue
        pattern = re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+(?:{names})\b", re.M)
        for number in range(len(history) - 1, 0, -1):
            source = history[number]
            if isinstance(source, str) and pattern.search(source):
                if _normal(source) not in saved:
                    warnings.append(f"The code you last ran for {ex.id} (In [{number}]) is not in the saved "
                                    f"{plan.display}: grading reads the saved file, so save the notebook "
                                    "(Ctrl+S / ⌘S) and check again if you meant to grade what you ran.")
                break
    return warnings


# --------------------------------------------------------------------------------------------
# Grading and showing


@dataclass
class Report:
    """What `%check` shows: HTML in Jupyter, plain text elsewhere."""

    results: list[Any] = field(default_factory=list)
    notebook: str = ""
    cells: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    pack: Any = None

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.results) and all(r.passed for r in self.results)

    def _repr_html_(self) -> str:
        parts = ['<div class="dl-course-report" style="font-family:var(--jp-ui-font-family, sans-serif);'
                 'line-height:1.4;margin:4px 0">']
        for w in self.warnings:
            parts.append('<div class="dl-course-unsaved" style="border-left:6px solid #bf8700;background:#fff8c5;'
                         f'color:#24292f;padding:6px 10px;margin:4px 0">⚠ <b>Unsaved changes?</b> {_e(w)}</div>')
        if self.error:
            parts.append('<div class="dl-course-error" style="border-left:6px solid #cf222e;background:#ffebe9;'
                         f'color:#24292f;padding:6px 10px;margin:4px 0"><b>error:</b> '
                         f'<span style="white-space:pre-wrap">{_e(self.error)}</span></div>')
        for r in self.results:
            parts.append(self._result_html(r))
        if len(self.results) > 1:
            ok = sum(r.passed for r in self.results)
            score = sum(r.score for r in self.results)
            total = sum(r.max_score for r in self.results)
            parts.append(f"<div><b>{ok} of {len(self.results)} exercises passed · {score:g}/{total} points</b></div>")
        parts.append("</div>")
        return "".join(parts)

    def _result_html(self, r: Any) -> str:
        colour = "#1a7f37" if r.passed else "#cf222e"
        cell = self.cells.get(r.exercise)
        where = f"{self.notebook}, {cell.label()}" if cell is not None else self.notebook
        out = [f'<div class="dl-course-result" data-exercise="{_e(r.exercise)}" '
               f'data-passed="{str(bool(r.passed)).lower()}" style="margin:6px 0 10px 0">',
               f'<div style="font-size:1.05em"><b style="color:{colour}">{"✓" if r.passed else "✗"} {_e(r.exercise)}'
               f'</b> &nbsp;{_e(r.title)} &nbsp;<b>{r.score:g}/{r.max_score}</b> '
               f'<span style="color:#57606a">&nbsp;{r.duration_s:.1f} s · {_e(where)}</span></div>']
        if r.error:
            out.append(f'<div style="color:#cf222e;white-space:pre-wrap">{_e(r.error)}</div>')
        if r.checks:
            out.append('<table class="dl-course-checks" style="border-collapse:collapse;margin:4px 0">'
                       f'<thead><tr><th style="{_LEFT}"></th><th style="{_LEFT}">check</th>'
                       f'<th style="{_LEFT}">what it checks</th><th style="{_LEFT}">result</th></tr></thead><tbody>')
            shown = False
            for c in r.checks:
                mark, col = _MARKS.get(c.status, ("?", "#24292f"))
                detail = ""
                if c.status in ("failed", "error") and not shown:
                    shown = True
                    detail = (f'<pre style="white-space:pre-wrap;margin:0;color:{col};background:transparent">'
                              f"{_e(c.message)}</pre>")
                elif c.status == "not_run":
                    detail = '<span style="color:#8c959f">not run</span>'
                elif c.status == "passed":
                    detail = '<span style="color:#1a7f37">passed</span>'
                dim = "color:#8c959f;" if c.status == "not_run" else ""
                out.append(f'<tr><td style="{_LEFT};color:{col};font-weight:bold">{mark}</td>'
                           f'<td style="{_LEFT};{dim}"><code>{_e(c.name)}</code></td>'
                           f'<td style="{_LEFT};{dim}">{_e(c.title)}</td><td style="{_LEFT}">{detail}</td></tr>')
            out.append("</tbody></table>")
        if r.diagnosis:
            out.append('<div class="dl-course-diagnosis" style="border:2px solid #d97706;border-left:10px solid '
                       '#d97706;background:#fff4e0;color:#24292f;padding:8px 12px;margin:6px 0;max-width:90ch">'
                       '<div style="font-size:1.1em;font-weight:bold;color:#9a3412">What went wrong</div>'
                       f'<div style="font-weight:bold;font-size:1.05em">{_e(r.diagnosis.get("message", ""))}</div>'
                       f'<div style="color:#57606a">known mistake: <code>{_e(r.diagnosis.get("id", ""))}</code></div>'
                       "</div>")
        if r.output.strip():
            out.append("<details><summary>Your code printed</summary>"
                       f'<pre style="white-space:pre-wrap">{_e(r.output.rstrip()[-3000:])}</pre></details>')
        if r.passed:
            out.append('<div style="color:#1a7f37">Well done.</div>')
        else:
            seed = f" --seed {r.seed}" if r.seed is not None else ""
            out.append(f'<div style="color:#57606a">Fix the cell, save, run this check again · stuck? '
                       f"<code>%hint {_e(r.exercise)}</code> · same inputs again: "
                       f"<code>%check {_e(r.exercise)}{_e(seed)}</code></div>")
        out.append("</div>")
        return "".join(out)

    def __repr__(self) -> str:
        lines = [f"⚠ Unsaved changes? {clean(w)}" for w in self.warnings]
        if self.error:
            lines.append(f"error: {clean(self.error)}")
        if self.results:
            from rich.console import Console

            from dl_course.render import print_results

            buf = io.StringIO()
            console = Console(file=buf, width=110, color_system=None, force_terminal=False, force_jupyter=False,
                              highlight=False)
            print_results(console, self.results, self.pack, target=self.notebook)
            lines.append("\n".join(line.rstrip() for line in buf.getvalue().rstrip().splitlines()))
        return "\n".join(lines)


def _e(text: Any) -> str:
    """Text for HTML (an element's content or a quoted attribute): control characters dropped, markup escaped."""
    return html_text(text)


def _show(report: Report, handle: Any = None) -> None:
    global last
    last = report
    try:
        from IPython.display import display
    except ImportError:
        print(repr(report))
        return
    if _ipython() is None:
        print(repr(report))
    elif handle is not None:
        handle.update(report)
    else:
        display(report)


def check(*exercises: str, notebook: str | os.PathLike | None = None, device: str = "auto",
          seed: int | None = None, course: str | None = None) -> None:
    """Grade the exercises' cells (default: every tagged cell) from the saved notebook and show the result."""
    ip = _ipython()
    names = [e for e in exercises if e]
    report = Report()
    handle = None
    try:
        from dl_course.notebook import plan_check

        path = find_notebook(notebook, names, ip)
        plan = plan_check(path, names, course or os.environ.get("DL_COURSE_PACK") or None, cwd=path.parent)
        report = Report(notebook=plan.display, cells=plan.cells, pack=plan.ctx.pack)
        if ip is not None:
            report.warnings = unsaved_changes(ip, plan)
            try:
                from IPython.display import HTML, display

                handle = display(HTML(f"<i>grading {_e(', '.join(e.id for e in plan.exercises))}…</i>"),
                                 display_id=True)
            except ImportError:  # pragma: no cover
                handle = None
        report.results = plan.run(device=device, seed=seed, warm=_warm_judge() if ip is not None else None)
    except CourseError as e:
        report.error = str(e)
    _show(report, handle)


def hint(exercise: str, course: str | None = None) -> None:
    """Show the next hint for an exercise (the one about your latest failure first)."""
    from dl_course import service

    try:
        ctx = service.open_course(course or os.environ.get("DL_COURSE_PACK") or None)
        report = service.next_hint(ctx, ctx.pack.exercise(exercise))
    except CourseError as e:
        _show(Report(error=str(e)))
        return
    if report.hint is None:
        text = (f"No more hints for {report.exercise} (you have seen all {report.total}). "
                f"`dl-course solution {report.exercise} --reveal` in a terminal shows the answer.")
    else:
        text = f"**Hint {report.number} of {report.total} · {report.exercise}**" + \
               (f" ({report.why})" if report.why else "") + f"\n\n{report.hint.text}"
    try:
        from IPython.display import Markdown, display

        if _ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)


def _parse(line: str) -> tuple[list[str], dict[str, Any]]:
    try:
        words = shlex.split(line)
    except ValueError as e:
        raise CourseError(f"%check {line}: {e}") from None
    names: list[str] = []
    options: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            key, _, value = word[2:].partition("=")
            if key not in ("seed", "device", "notebook", "course"):
                raise CourseError(f"%check: unknown option --{key} (options: --seed N, --device D, "
                                  "--notebook PATH, --course DIR)")
            if not value:
                i += 1
                if i >= len(words):
                    raise CourseError(f"%check: --{key} needs a value")
                value = words[i]
            if key == "seed":
                try:
                    options["seed"] = int(value)
                except ValueError:
                    raise CourseError(f"%check: --seed needs a whole number, got {value!r}") from None
            else:
                options[key] = value
        else:
            names.append(word)
        i += 1
    return names, options


def _check_magic(line: str) -> None:
    try:
        names, options = _parse(line)
    except CourseError as e:
        _show(Report(error=str(e)))
        return
    check(*names, **options)


def _hint_magic(line: str) -> None:
    names = line.split()
    if len(names) != 1:
        _show(Report(error="%hint takes one exercise id, e.g. %hint subsequent_mask"))
        return
    hint(names[0])
