"""The instructor's commands: author new, author validate, grade (a class), gradescope."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dl_course.cli.common import (
    CourseOpt,
    Device,
    app,
    author_app,
    make_console,
    reports_errors,
)
from dl_course.cli.mutants import BudgetOpt, WorkersOpt, run_and_show
from dl_course.errors import CourseError


@author_app.command("new")
@reports_errors
def author_new(spec: Annotated[str, typer.Argument(help="CHAPTER/EXERCISE_ID, e.g. chapter9/my_exercise.")],
               course: Annotated[Optional[Path], typer.Option("--course", metavar="DIR",
                                                              help="The pack to add to (default: this folder).")
                                 ] = None) -> None:
    """Scaffold a new exercise: manifest, starter, reference, hidden suite and known mistakes."""
    from dl_course.author import new_exercise

    files = new_exercise((course or Path.cwd()).resolve(), spec)
    console = make_console()
    for path in files:
        console.print(f"  wrote {path}")
    exercise_id = spec.split("/", 1)[1]
    where = f" --course {course}" if course is not None else ""
    console.print(f"\nFill in every TODO, then prove it sound: [bold]dl-course author validate {exercise_id}{where}[/]")


@author_app.command("validate")
@reports_errors
def author_validate(exercises: Annotated[Optional[List[str]], typer.Argument(
                        help="Exercise ids (default: the whole course).")] = None,
                    device: Annotated[Device, typer.Option(help="Where to run the checks.")] = Device.auto,
                    mutants: Annotated[bool, typer.Option(
                        "--mutants", help="Also grade small wrong variants of each reference (see `author "
                                          "mutants`): every one must be caught or declared equivalent.")] = False,
                    budget: BudgetOpt = None, workers: WorkersOpt = None,
                    course: CourseOpt = None) -> None:
    """Prove exercises sound: reference passes, starter fails, every known mistake caught and named
    (and with --mutants, no undeclared mutant of the reference survives)."""
    from dl_course import service
    from dl_course.author import validate
    from dl_course.course import load_pack

    pack = load_pack(course)
    chosen = [service.exercise(pack, e) for e in exercises] if exercises else list(pack.exercises.values())
    verdicts = validate(pack, chosen, device=device.value)
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("exercise", no_wrap=True, min_width=max((len(v.exercise) for v in verdicts), default=8))
    for col in ("reference", "starter", "known mistakes", "stable", "verdict"):
        table.add_column(col)
    for v in verdicts:
        diagnosed = sum(1 for m, d in v.mistakes if f"diagnosed {m}" in d)
        table.add_row(v.exercise, v.reference, v.starter, f"{diagnosed}/{len(v.mistakes)} named",
                      "yes" if v.stable else "no", Text("sound", style="green") if v.ok else Text("NOT sound", style="red"))
    console.print(table)
    for v in verdicts:
        for problem in v.problems:
            console.print(Text.assemble((f"{v.exercise}: ", "bold red"), problem))
    ok = all(v.ok for v in verdicts)
    if mutants:
        # Mutants of a reference that fails prove nothing: only sound exercises go on.
        ok = run_and_show(pack, [ex for ex, v in zip(chosen, verdicts) if v.ok], device.value, budget, workers) and ok
    raise typer.Exit(code=0 if ok else 1)


@app.command("grade")
@reports_errors
def grade_class(submissions: Annotated[Path, typer.Argument(
                    help="A folder with one entry per student: a folder of their files (a workspace, e.g. "
                         "ana/chapter09/subsequent_mask.py, or flat, e.g. ben/subsequent_mask.py) or a .zip of one.")],
                exercise: Annotated[Optional[List[str]], typer.Option(
                    "--exercise", "-e", metavar="ID", help="Grade this exercise (repeat, or separate ids with commas); "
                                                           "default: every exercise some student handed in a file for.")] = None,
                workers: Annotated[Optional[int], typer.Option(
                    min=1, help="Judges grading at once on this machine (default: the CPU count, at most 8).")] = None,
                out: Annotated[Path, typer.Option(
                    help="Where the gradebook and the exports go.")] = Path("grades"),
                scheduler: Annotated[Optional[str], typer.Option(
                    metavar="ADDR", help="Grade on a Dask distributed cluster, e.g. tcp://host:8786 (workers need "
                                         "dl-course and the course pack installed).")] = None,
                device: Annotated[Device, typer.Option(help="Where the checks run (cpu: the same verdict on every "
                                                            "machine).")] = Device.cpu,
                seed: Annotated[Optional[int], typer.Option(help="Draw the test inputs from this seed (default: one "
                                                                 "kept in the gradebook).")] = None,
                regrade: Annotated[bool, typer.Option(help="Grade everything again, ignoring kept verdicts.")] = False,
                batch_size: Annotated[Optional[int], typer.Option(min=1, help="Submissions per judge (default: "
                                                                               "a few batches per worker).")] = None,
                allow_unisolated: Annotated[bool, typer.Option(help="Grade even where learner code cannot be put "
                                                                    "behind the OS boundary (see `dl-course doctor`).")
                                            ] = False,
                course: CourseOpt = None) -> None:
    """Grade a class: every student's files, a gradebook that a re-run reuses, CSV/JSON exports and a
    misconception report.

    The instructor's path: `dl-course author new` → `dl-course author validate` → hand out the
    chapter (`dl-course start`) → collect one folder or zip per student into SUBMISSIONS →
    `dl-course grade SUBMISSIONS --out grades` → grades/grades.csv, grades.json, misconceptions.md.
    An interrupted run keeps what it graded: run the same command again to resume.
    """
    from dl_course.classroom.export import export_all
    from dl_course.classroom.run import default_workers, prepare, prove_references
    from dl_course.classroom.view import grade_with_progress, print_plan, print_summary
    from dl_course.cli.isolation import require_isolation
    from dl_course.course import load_pack

    require_isolation(allow_unisolated)
    pack = load_pack(course)
    plan = prepare(pack, submissions, out, course=course, exercise_ids=exercise, device=device.value, seed=seed,
                   regrade=regrade)
    prove_references(plan)  # a broken reference would fail the whole class, on every run
    console = make_console()
    print_plan(console, plan)
    report = grade_with_progress(console, plan, workers or default_workers(), scheduler, batch_size)
    if report.interrupted:
        _interrupted(console, report, out)
        raise typer.Exit(code=130)
    misconceptions = export_all(plan.gradebook, plan.exercises, pack, out)
    print_summary(console, report, misconceptions, out)
    raise typer.Exit(code=130 if report.interrupted else (1 if report.not_graded else 0))


def _interrupted(console, report, out: Path) -> None:
    """Ctrl-C during `grade`: stop the judges at once; write no exports, since they would be
    incomplete (a blank cell uploads as a zero); say what the folder holds now."""
    import time

    from rich.text import Text

    from dl_course.grading.runner import close_all

    close_all()
    plan = report.plan
    console.print(Text.assemble(
        ("Interrupted: ", "bold yellow"),
        f"graded {report.graded} of {len(plan.items)} submission-exercises this run; every verdict recorded so far "
        f"is kept in {plan.gradebook.path}. The exports were not written, since they would be incomplete. "
        "Run the same command again to grade the rest and write them."))
    old = [p for p in (out / "grades.csv", out / "grades.json") if p.exists()]
    if old:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(min(p.stat().st_mtime for p in old)))
        console.print(Text(f"{', '.join(str(p) for p in old)}: still the export of an earlier run "
                           f"({when}), not of this one.", style="yellow"))


@app.command("gradescope")
@reports_errors
def gradescope(submission: Annotated[Path, typer.Option(help="The student's upload.")] = Path("/autograder/submission"),
               results: Annotated[Path, typer.Option(help="Where Gradescope reads the verdict.")
                                  ] = Path("/autograder/results/results.json"),
               exercise: Annotated[Optional[List[str]], typer.Option(
                   "--exercise", "-e", metavar="ID", help="Grade this exercise (repeat for more); default: those "
                                                          "the upload has files for.")] = None,
               visibility: Annotated[str, typer.Option(help="Gradescope visibility of each test: visible, hidden, "
                                                            "after_due_date or after_published.")] = "visible",
               device: Annotated[Device, typer.Option(help="Where the checks run.")] = Device.cpu,
               allow_unisolated: Annotated[bool, typer.Option(help="Grade even without the OS boundary.")] = False,
               course: CourseOpt = None) -> None:
    """Grade a Gradescope submission and write Gradescope's results.json (for run_autograder).

    --results may name the file or Gradescope's folder (/autograder/results). A results.json is
    written whatever happens (a missing or broken submission, a grader that cannot run), so the
    student reads a reason instead of Gradescope's generic failure."""
    import os

    from dl_course.classroom.gradescope import gradescope_results, write_results
    from dl_course.cli.isolation import require_isolation
    from dl_course.course import load_pack

    if visibility not in ("visible", "hidden", "after_due_date", "after_published"):
        raise typer.BadParameter(f"unknown visibility {visibility!r}", param_hint="--visibility")
    if results.is_dir() or str(results).endswith(("/", os.sep)):
        results = results / "results.json"
    probe = results.parent
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not os.access(probe, os.W_OK) or results.is_dir():
        raise CourseError(f"--results {results}: cannot be written here ({probe} is not writable); nothing was graded")

    def give_up(why: str, code: int) -> None:
        write_results({"score": 0.0, "output": f"This submission could not be graded: {why}", "tests": [],
                       "visibility": visibility, "stdout_visibility": "hidden"}, results)
        make_console(stderr=True).print(f"error: {why} · wrote {results}", markup=False)
        raise typer.Exit(code=code)

    try:
        require_isolation(allow_unisolated)
    except typer.Exit as e:
        give_up("the autograder has no OS boundary for learner code on this machine (see the autograder's log)",
                e.exit_code)
    try:
        answer = gradescope_results(load_pack(course), course, submission, exercise, device=device.value,
                                    visibility=visibility)
    except CourseError as e:
        give_up(str(e), 2)
    write_results(answer, results)
    make_console().print(f"{answer['output'].splitlines()[0]} · wrote {results}")
