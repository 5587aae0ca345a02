"""Rich views for `dl-course grade`: the live progress bar and the end-of-run summary.

Student names (submission folders' names, with their control characters made visible) and notes
(which name files inside a submission) are shown as `Text`, never parsed as markup."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

from dl_course.classroom.run import Plan, RunReport, execute
from dl_course.textsafe import clean, visible

__all__ = ["grade_with_progress", "print_plan", "print_summary"]


class _Rate(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f}/s" if speed else "–/s", style="cyan")


def print_plan(console: Console, plan: Plan) -> None:
    n = len(plan.students)
    console.print(Text(f"{n} student{'s' if n != 1 else ''} · exercises: {', '.join(e.id for e in plan.exercises)}"))
    console.print(f"  to grade now: {len(plan.items)}   already in the gradebook: {plan.reused}   "
                  f"not submitted: {plan.missing}" + (f"   refused: {plan.refused}" if plan.refused else ""))
    for note in plan.ignored:
        console.print(Text(f"  ignored {clean(note)}", style="yellow"))
    for student in plan.students:
        for note in student.notes:
            console.print(Text(f"  {visible(student.name)}: {clean(note)}", style="dim"))
        if student.problem:
            console.print(Text(f"  {visible(student.name)}: {clean(student.problem)}", style="yellow"))


def grade_with_progress(console: Console, plan: Plan, workers: int, scheduler: str | None,
                        batch_size: int | None = None) -> RunReport:
    where = f"on {scheduler}" if scheduler else f"on {workers} worker{'s' if workers != 1 else ''}"
    progress = Progress(SpinnerColumn(), TextColumn("[bold]grading[/] {task.description}"), BarColumn(),
                        MofNCompleteColumn(), _Rate(), TextColumn("elapsed"), TimeElapsedColumn(),
                        TextColumn("left"), TimeRemainingColumn(), console=console, transient=False,
                        disable=not console.is_terminal)
    state: dict[str, Any] = {}

    def on_start(total: int) -> None:
        state["task"] = progress.add_task(where, total=max(total, 1) if total else 0)

    def on_finished(n: int) -> None:
        progress.advance(state["task"], n)

    def on_batch(answers: list[dict[str, Any]], told: int) -> None:
        progress.advance(state["task"], len(answers) - told)
        if not console.is_terminal:
            done = int(progress.tasks[0].completed)
            console.print(f"  graded {done}/{len(plan.items)}")

    with progress:
        return execute(plan, workers=workers, scheduler=scheduler, batch_size=batch_size, on_start=on_start,
                       on_batch=on_batch, on_finished=on_finished)


def print_summary(console: Console, report: RunReport, misconceptions: dict[str, Any], out) -> None:
    from dl_course.classroom.export import misconception_table

    plan = report.plan
    console.print(misconception_table(misconceptions))
    rate = f" ({report.graded / report.seconds:.2f} per second)" if report.graded and report.seconds else ""
    console.print(Text.assemble(("Graded ", "bold"), f"{report.graded} submission-exercises in {report.seconds:.1f} s"
                                f"{rate}; reused {plan.reused} from the gradebook; {plan.missing} not submitted."))
    for key, why in report.not_graded[:10]:
        console.print(Text(f"  not graded: {visible(key[0])} {clean(key[1])}: {clean(why)}", style="red"))
    if len(report.not_graded) > 10:
        console.print(Text(f"  … and {len(report.not_graded) - 10} more not graded", style="red"))
    if report.interrupted:
        console.print(Text("Interrupted: every verdict recorded so far is kept. Run the same command again to "
                           "grade the rest.", style="bold yellow"))
    elif report.not_graded:
        console.print(Text("Some submissions could not be graded; run the same command again to retry them.",
                           style="yellow"))
    console.print(Text(f"Wrote {out}/grades.csv, grades.json, misconceptions.md, misconceptions.json "
                       f"(gradebook: {plan.gradebook.path})"))
