"""The `dl-course` command: parse, call one service function, print. No logic lives here.

Exit status: 0 when everything graded passed (or the command did its job), 1 for a failed
verdict, 2 for a usage, course-pack or workspace error; 128+N when stopped by signal N
(130 for Ctrl-C).

    common.py      the Typer apps, shared options, error reporting, opening the TUI
    learner.py     start, check (--watch), list, progress, hint, solution, reset
    reading.py     lesson, notebook
    instructor.py  author new / validate, grade, gradescope
    mutants.py     author mutants, and author validate --mutants
    isolation.py   doctor; class grading's guard against running without the OS boundary
"""

from __future__ import annotations

from dl_course.cli.common import app

# Importing them registers the commands, in the order `--help` lists them: the learner's first.
from dl_course.cli import learner  # noqa: F401, E402, I001
from dl_course.cli import reading  # noqa: F401, E402, I001
from dl_course.cli import instructor  # noqa: F401, E402, I001
from dl_course.cli import isolation  # noqa: F401, E402, I001

__all__ = ["app", "main"]


def _stop_on_signal() -> None:
    """SIGTERM and SIGHUP end the command like Ctrl-C does: unwinding, so every judge and learner
    process a check started is stopped (`grading.runner.close_all`) instead of left running."""
    import signal

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, stop)


def main() -> None:
    _stop_on_signal()
    app()
