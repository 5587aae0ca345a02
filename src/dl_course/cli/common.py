"""What every command shares: the Typer apps, the common options, error reporting, the console."""

from __future__ import annotations

import functools
import sys
from enum import Enum
from typing import Annotated, Callable, Optional

import typer

from dl_course.errors import CourseError

__all__ = ["app", "author_app", "CourseOpt", "Device", "make_console", "reports_errors", "on_terminal", "open_tui"]

app = typer.Typer(add_completion=False, rich_markup_mode=None,
                  help="A terminal course in deep learning for sequences that grades your own PyTorch code.\n\n"
                       "Start with: dl-course start chapter9   (alone, on a terminal, `dl-course` opens the course)")
author_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Tools for instructors: new, validate, mutants.")
app.add_typer(author_app, name="author")

CourseOpt = Annotated[Optional[str], typer.Option("--course", envvar="DL_COURSE_PACK", metavar="DIR",
                                                  help="Use the course pack in DIR instead of the built-in one.")]


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    all = "all"


def make_console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def reports_errors(fn: Callable) -> Callable:
    """Turn a CourseError into a one-line message on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CourseError as e:
            from rich.text import Text

            from dl_course.textsafe import clean

            # Not wrapped by Rich: a file's path stays whole (to copy, or to grep for). Cleaned: the
            # message may quote a file's name or content, which must not drive the terminal.
            make_console(stderr=True).print(Text.assemble(("error: ", "bold red"), clean(str(e))), soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _version(value: bool) -> None:
    if value:
        from dl_course import __version__

        typer.echo(f"dl-course {__version__} (Python {sys.version.split()[0]})")
        raise typer.Exit(code=0)


@app.callback(invoke_without_command=True)
def _main(ctx: typer.Context,
          version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """With no command: open the course in the terminal UI (on a terminal), else print this help."""
    if ctx.invoked_subcommand is not None:
        return
    if not on_terminal():
        typer.echo(ctx.get_help())
        raise typer.Exit(code=0)
    open_tui()


@reports_errors
def open_tui(chapter: str | None = None, course: str | None = None) -> None:
    from dl_course import service
    from dl_course.tui import run

    run(service.open_course(course), chapter=chapter, course=course)


