"""Reading the course: lesson (in the terminal) and notebook (for Jupyter)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from dl_course.cli.common import CourseOpt, app, make_console, reports_errors


@app.command()
@reports_errors
def lesson(chapter: Annotated[str, typer.Argument(help="The chapter: 9, ch9, chapter9 or chapter09.")],
           course: CourseOpt = None) -> None:
    """Print a chapter's lesson in the terminal."""
    from dl_course import service

    text = service.lesson_text(service.open_course(course), chapter)
    if not sys.stdout.isatty():  # a pipe or a file: the Markdown itself, every line whole
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from rich.markdown import Markdown

    console = make_console()
    _pager_shows_colour()
    with console.pager(styles=True):
        console.print(Markdown(text, code_theme="monokai"))


def _pager_shows_colour() -> None:
    """The pager is `less` unless $PAGER says otherwise: make it show colours (-R), not escape codes."""
    import os

    flags = os.environ.get("LESS", "")
    if "R" not in flags and "r" not in flags:  # e.g. LESS=FRX already has it
        os.environ["LESS"] = (flags + " -R").strip()


@app.command()
@reports_errors
def notebook(chapter: Annotated[str, typer.Argument(help="The chapter: 9, ch9, chapter9 or chapter09.")],
             output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="NAME",
                                                           help="Write the notebook to NAME (inside the workspace) "
                                                                "instead of chapterNN.ipynb.")] = None,
             course: CourseOpt = None) -> None:
    """Write the chapter as a Jupyter notebook (lesson + one tagged cell per exercise); never overwrites your edits."""
    from dl_course.notebook import write_notebook

    report = write_notebook(chapter, output, course)
    console = make_console()
    if report.created_workspace:
        console.print(f"Created a dl-course workspace in {report.workspace.root}")
    for path, created in report.files:
        if created:
            console.print(f"  [green]created[/] {report.workspace.display(path)}")
    name = report.display
    if report.status == "kept":
        console.print(f"[yellow]kept[/] {name}: it has your edits, so it was not overwritten. For a fresh copy: "
                      f"[bold]dl-course notebook {report.chapter_id} --output NAME.ipynb[/]")
    else:
        said = {"created": "[green]created[/]", "updated": "[green]updated[/] (it had no edits of yours)",
                "unchanged": "[dim]unchanged (already up to date)[/]"}[report.status]
        console.print(f"  {said} {name}")
    console.print(f"\nNext: open it with [bold]jupyter lab {name}[/], fill in a tagged cell, save, and run its "
                  f"[bold]%check[/] cell (or [bold]dl-course check {name}[/] here).")
