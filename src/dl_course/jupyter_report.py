"""What `%check` shows: the `Report`, as HTML in Jupyter and as plain text elsewhere.

Every piece of text placed into the HTML goes through `_e` (`dl_course.textsafe.html_text`): control
characters dropped, `<`, `>`, `&` and quotes escaped, so a notebook's name, a learner's printed
output or an exception's message is shown as text, never run as HTML or JavaScript. The plain text
(`repr`) is cleaned of control characters.

Part of the IPython extension (`dl_course.jupyter`); imports neither IPython nor torch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from dl_course.textsafe import clean, html_text

__all__ = ["Report"]

_MARKS = {"passed": ("✓", "#1a7f37"), "failed": ("✗", "#cf222e"), "error": ("!", "#8250df"),
          "not_run": ("·", "#8c959f")}
_LEFT = "text-align:left;vertical-align:top;padding:2px 10px 2px 0"


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
