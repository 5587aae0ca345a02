"""`author mutants` and the mutation half of `author validate --mutants`: grade small wrong
variants of each reference and show which the hidden suite lets through."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from dl_course.cli.common import CourseOpt, Device, author_app, make_console, reports_errors

__all__ = ["run_and_show"]

BudgetOpt = Annotated[Optional[float], typer.Option(
    "--budget", metavar="SECONDS", help="Grading time per exercise; mutants left when it runs out are not run.")]
WorkersOpt = Annotated[Optional[int], typer.Option(
    min=1, help="Judges grading mutants at once (default: the CPU count, at most 4).")]


def run_and_show(pack, exercises, device: str, budget: float | None, workers: int | None,
                 cache: bool = True, as_json: bool = False, markdown: Path | None = None, detail: bool = False) -> bool:
    """Grade the mutants of `exercises`, print the report, and say whether every one is sound."""
    from dl_course.mutation import report as show
    from dl_course.mutation.run import run_mutants

    console = make_console()
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    with console.status("grading mutants…") as status:
        reports = run_mutants(pack, exercises, device="cpu" if device == "auto" else device, budget_s=budget,
                              workers=workers, use_cache=cache, on_progress=lambda line: status.update(line))
    references = {ex.id: ex.solution.read_text(encoding="utf-8") for ex in exercises}
    if markdown is not None:
        markdown.write_text(show.markdown(reports, references), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps({"schema_version": 1, "sound": all(r.ok for r in reports),
                               "exercises": [r.to_dict() for r in reports]}, indent=2))
        return all(r.ok for r in reports)
    if detail:
        for r in reports:
            console.print("\n".join(show.detail(r, references[r.exercise])), markup=False, soft_wrap=True)
    console.print(show.table(reports))
    from rich.text import Text

    for r in reports:
        for problem in r.problems:
            console.print(Text.assemble((f"{r.exercise}: ", "bold red"), problem))
        if r.count("not run"):
            console.print(Text.assemble((f"{r.exercise}: ", "bold yellow"),
                                        f"{r.count('not run')} mutants not run within the time budget"))
    if markdown is not None:
        console.print(f"wrote {markdown}")
    return all(r.ok for r in reports)


@author_app.command("mutants")
@reports_errors
def author_mutants(exercises: Annotated[list[str], typer.Argument(help="Exercise ids.")],
                   device: Annotated[Device, typer.Option(help="Where to run the checks.")] = Device.cpu,
                   budget: BudgetOpt = None, workers: WorkersOpt = None,
                   cache: Annotated[bool, typer.Option(help="Reuse verdicts of mutants graded before.")] = True,
                   as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
                   markdown: Annotated[Optional[Path], typer.Option(
                       metavar="FILE", help="Also write a Markdown report to FILE.")] = None,
                   course: CourseOpt = None) -> None:
    """Every mutant of each exercise's reference in detail: what changed, what caught it, and the
    diff of each survivor."""
    from dl_course import service
    from dl_course.course import load_pack

    pack = load_pack(course)
    chosen = [service.exercise(pack, e) for e in exercises]
    ok = run_and_show(pack, chosen, device.value, budget, workers, cache, as_json, markdown, detail=True)
    raise typer.Exit(code=0 if ok else 1)
