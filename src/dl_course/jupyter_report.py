"""What `%check` shows and `dl_course.check()` returns: the `Report`, as HTML in Jupyter and as
plain text elsewhere.

A `Report` is the result: `.passed`, `.score` / `.max_score` (points, summed over the exercises
graded), `.checks` (every check, in order), `.results` (one `grading.result.ExerciseResult` per
exercise; `report["subsequent_mask"]` is one of them), `.figures`, `.error` (why nothing could be
graded) and `.notes` (how the cells were put together, e.g. a broken cell left out). In Jupyter it
displays as HTML with the heatmaps of the checks that draw one (inline SVG, `jupyter_figures`); its
`repr` is the same verdict as plain text, whose next steps name `%check` and `%hint`. A report that
`%check` or `dl_course.check()` has already shown in a cell is not shown a second time when it is also
that cell's value (`_ipython_display_`), so `dl_course.check("ID")` on a cell's last line shows once.

Every piece of text placed into the HTML goes through `_e` (`dl_course.textsafe.html_text`): control
characters dropped, `<`, `>`, `&` and quotes escaped, so a notebook's name, a learner's printed
output or an exception's message is shown as text, never run as HTML or JavaScript. The plain text
(`repr`) is cleaned of control characters.

Part of the IPython extension (`dl_course.jupyter`); imports neither IPython nor torch.
"""

from __future__ import annotations

import io
import shlex
from dataclasses import dataclass, field
from typing import Any

from dl_course.jupyter_figures import figures_html
from dl_course.textsafe import clean, html_text

__all__ = ["Report"]

_MARKS = {"passed": ("✓", "#1a7f37"), "failed": ("✗", "#cf222e"), "error": ("!", "#8250df"),
          "not_run": ("·", "#8c959f")}
_LEFT = "text-align:left;vertical-align:top;padding:2px 10px 2px 0"


@dataclass
class Report:
    """What `%check` shows and `dl_course.check()` returns: HTML in Jupyter, plain text elsewhere."""

    results: list[Any] = field(default_factory=list)
    notebook: str = ""
    cells: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    pack: Any = None
    notes: list[str] = field(default_factory=list)
    """How the cells were put together, when the learner should know (a broken cell left out)."""
    tagged: set[str] = field(default_factory=set)
    """The exercises that have a cell in the notebook (so the next step can name `%check NEXT`)."""
    shown_in: Any = field(default=None, repr=False, compare=False)
    """The kernel's execution count when the report was shown (it is not shown twice in one cell)."""

    @property
    def passed(self) -> bool:
        """Every exercise graded passed (False when nothing could be graded)."""
        return self.error is None and bool(self.results) and all(r.passed for r in self.results)

    @property
    def score(self) -> float:
        """Points earned, summed over the exercises graded."""
        return float(sum(r.score for r in self.results))

    @property
    def max_score(self) -> int:
        return int(sum(r.max_score for r in self.results))

    @property
    def checks(self) -> list[Any]:
        """Every check of every exercise graded, in order (`grading.result.CheckResult`: `.name`,
        `.title`, `.passed`, `.status`, `.message`)."""
        return [c for r in self.results for c in r.checks]

    @property
    def figures(self) -> list[dict[str, Any]]:
        return [f for r in self.results for f in r.figures]

    def __getitem__(self, exercise: str) -> Any:
        for r in self.results:
            if r.exercise == exercise:
                return r
        raise KeyError(exercise)

    def __bool__(self) -> bool:  # a report is a thing, even when it failed (use .passed)
        return True

    def _mimebundle(self) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": repr(self)}

    def _ipython_display_(self) -> None:
        """Shown as HTML (and plain text), except as the value of the very cell that has shown it already."""
        from dl_course.jupyter_find import _ipython

        ip = _ipython()
        if self.shown_in is not None and ip is not None and getattr(ip, "execution_count", None) == self.shown_in:
            return
        from IPython.display import display

        display(self._mimebundle(), raw=True)

    def _repr_html_(self) -> str:
        parts = ['<div class="dl-course-report" style="font-family:var(--jp-ui-font-family, sans-serif);'
                 'line-height:1.4;margin:4px 0">']
        for w in self.warnings:
            parts.append('<div class="dl-course-unsaved" style="border-left:6px solid #bf8700;background:#fff8c5;'
                         f'color:#24292f;padding:6px 10px;margin:4px 0">⚠ <b>Unsaved changes?</b> {_e(w)}</div>')
        for n in self.notes:
            parts.append('<div class="dl-course-note" style="border-left:6px solid #0969da;background:#ddf4ff;'
                         f'color:#24292f;padding:6px 10px;margin:4px 0">ℹ {_e(n)}</div>')
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
        out.append(figures_html(r.figures))
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
        lines += [f"note: {clean(n)}" for n in self.notes]
        if self.error:
            lines.append(f"error: {clean(self.error)}")
        if self.results:
            from rich.console import Console

            from dl_course.render import _print_one

            buf = io.StringIO()
            console = Console(file=buf, width=110, color_system=None, force_terminal=False, force_jupyter=False,
                              highlight=False)
            for r in self.results:
                _print_one(console, r)
            lines.append("\n".join(line.rstrip() for line in buf.getvalue().rstrip().splitlines()))
            lines += self._footer()  # unwrapped: a command is never cut in two
        return "\n".join(lines)

    def _footer(self) -> list[str]:
        """The summary and the next step, in the notebook's own commands (`%check`, `%hint`)."""
        out = []
        results = self.results
        if len(results) > 1:
            ok = sum(r.passed for r in results)
            out.append(f"{ok} of {len(results)} exercises passed · {self.score:g}/{self.max_score} points")
        failing = [r for r in results if not r.passed]
        if failing:
            first = failing[0]
            seed = f" --seed {first.seed}" if first.seed is not None else ""
            out.append(f"Next: fix {first.exercise}'s cell, save, then `%check {first.exercise}`  ·  stuck? "
                       f"`%hint {first.exercise}`  ·  same inputs again: `%check {first.exercise}{seed}`")
        elif results:
            nxt = self._next_exercise(results[-1].exercise)
            out.append(f"Well done. Next: {nxt}" if nxt else "Well done: that was the last exercise here.")
        return out

    def _next_exercise(self, exercise_id: str) -> str | None:
        if self.pack is None:
            return None
        order = [e for c in self.pack.chapters for e in c.exercises]
        if exercise_id not in order or order.index(exercise_id) + 1 >= len(order):
            return None
        nxt = order[order.index(exercise_id) + 1]
        if nxt in self.tagged or not self.tagged:
            return f"`%check {nxt}`"
        chapter = self.pack.chapter_of(self.pack.exercises[nxt])
        return f"{nxt}, which is not in this notebook: `dl-course notebook {shlex.quote(chapter.id)}` writes its own"


def _e(text: Any) -> str:
    """Text for HTML (an element's content or a quoted attribute): control characters dropped, markup escaped."""
    return html_text(text)
