"""The IPython extension: `%load_ext dl_course`, then `%check subsequent_mask`.

`%check ID [ID…] [--seed N] [--device cpu] [--notebook PATH]` (or `dl_course.check("ID")`) grades
the exercise's cell from the SAVED notebook file, exactly as `dl-course check NOTEBOOK ID` does
(same grader, same isolation, same progress store), and shows the result as an HTML table with the
known-mistake diagnosis standing out and the checks' heatmaps. With no ID it grades every tagged
cell of the notebook. `dl_course.check()` also returns the result (a `Report`: `.passed`, `.score`,
`.checks`), which displays as the same HTML. `%hint ID` shows the next hint.

Split along its seams: `jupyter_find` finds the notebook to grade and warns of unsaved changes,
`jupyter_report` shows a `Report` (HTML in Jupyter, plain text elsewhere; learner text escaped),
and this module is the extension itself: the magics, `check`, `hint`, and the kernel's warm judge.

`%load_ext dl_course` starts a judge process in the background (a `WarmJudge`), and each check
starts the next one, so a check finds a judge ready: about 0.2 s of wall time in the kernel for a
small exercise, instead of the 1.5–2 s (two cores) a judge takes to start (it and its learner
process import torch). Checks run back to back (*Run All*) still wait for that start, as each
check gets a fresh judge. The judge is stopped when the kernel exits. `DL_COURSE_NO_WARM=1` in
the kernel's environment starts judges only when a check asks for one.

IPython is imported only here, and only inside a kernel; torch never is (grading runs elsewhere).
"""

from __future__ import annotations

import os
import shlex
from typing import Any

from dl_course.errors import CourseError
from dl_course.jupyter_find import _ipython, find_notebook, unsaved_changes
from dl_course.jupyter_report import Report, _e

__all__ = ["load_ipython_extension", "unload_ipython_extension", "check", "hint", "find_notebook", "unsaved_changes", "Report", "last"]

last: "Report | None" = None
"""The latest report shown, for code that wants its data (`dl_course.jupyter.last.results`)."""


_warm: Any = None
"""A grading.runner.WarmJudge kept by the kernel after its first check, so the next one starts warm."""


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magic_function(_check_magic, magic_kind="line", magic_name="check")
    ipython.register_magic_function(_hint_magic, magic_kind="line", magic_name="hint")
    if os.environ.get("DL_COURSE_NO_WARM") != "1":
        # Start the judge now, while the learner reads and fills in cells, so the first check is warm too.
        try:
            _warm_judge().start()
        except Exception:  # noqa: BLE001 - never fail %load_ext: the first check starts one and says what is wrong
            pass


def unload_ipython_extension(ipython: Any) -> None:
    _close_warm()


def _close_warm() -> None:
    global _warm
    warm, _warm = _warm, None
    if warm is not None:
        warm.close()


def _warm_judge() -> Any:
    """The kernel's warm judge (created on `%load_ext` or the first check; after each check the next
    one starts warming in the background, so a check a few seconds after the last one is warm)."""
    global _warm
    if _warm is None:
        import atexit

        from dl_course.grading.runner import WarmJudge

        _warm = WarmJudge()
        atexit.register(_close_warm)
    return _warm


# --------------------------------------------------------------------------------------------
# Grading and showing


def _show(report: Report, handle: Any = None) -> Report:
    global last
    last = report
    ip = _ipython()
    try:
        from IPython.display import display
    except ImportError:
        display = None
    if ip is None or display is None:
        print(repr(report))
        return report
    report.shown_in = getattr(ip, "execution_count", None)
    if handle is not None:
        handle.update(report._mimebundle(), raw=True)
    else:
        display(report._mimebundle(), raw=True)
    return report


def check(*exercises: str, notebook: str | os.PathLike | None = None, device: str = "auto",
          seed: int | None = None, course: str | None = None) -> Report:
    """Grade the exercises' cells (default: every tagged cell) from the saved notebook, show the
    result, and return it: a `Report` (`.passed`, `.score`, `.checks`, `.results`; see
    `dl_course.jupyter_report`) that displays as the same HTML."""
    ip = _ipython()
    names = [e for e in exercises if e]
    report = Report()
    handle = None
    try:
        from dl_course.notebook import plan_check

        path = find_notebook(notebook, names, ip)
        plan = plan_check(path, names, course or os.environ.get("DL_COURSE_PACK") or None, cwd=path.parent)
        report = Report(notebook=plan.display, cells=plan.cells, pack=plan.ctx.pack, notes=plan.notes,
                        tagged={c.exercise for c in plan.notebook_cells if c.exercise})
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
    return _show(report, handle)


def hint(exercise: str, course: str | None = None) -> None:
    """Show the next hint for an exercise (the one about your latest failure first)."""
    from dl_course import service
    from dl_course.notebook.build import _notebook_commands

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
               (f" ({report.why})" if report.why else "") + f"\n\n{_notebook_commands(report.hint.text)}"
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
    """`%check …`: shows the report (and returns nothing, so it is not shown twice)."""
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
