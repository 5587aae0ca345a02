"""The `dl-course` command: parse, call one service function, print. No logic lives here.

Exit status: 0 when everything graded passed (or the command did its job), 1 for a failed
verdict, 2 for a usage, course-pack or workspace error.
"""

from __future__ import annotations

import functools
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, List, Optional

import typer

from dl_course.errors import CourseError

app = typer.Typer(add_completion=False, rich_markup_mode=None,
                  help="A terminal course in deep learning for sequences that grades your own PyTorch code.\n\n"
                       "Start with: dl-course start chapter9   (alone, on a terminal, `dl-course` opens the course)")
author_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Tools for instructors: new, validate.")
app.add_typer(author_app, name="author")

CourseOpt = Annotated[Optional[str], typer.Option("--course", envvar="DL_COURSE_PACK", metavar="DIR",
                                                  help="Use the course pack in DIR instead of the built-in one.")]


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    all = "all"


def _console(stderr: bool = False):
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

            _console(stderr=True).print(Text.assemble(("error: ", "bold red"), str(e)))
            raise typer.Exit(code=2) from None

    return wrapper


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


@app.callback(invoke_without_command=True)
def _main(ctx: typer.Context) -> None:
    """With no command: open the course in the terminal UI (on a terminal), else print this help."""
    if ctx.invoked_subcommand is not None:
        return
    if not _on_terminal():
        typer.echo(ctx.get_help())
        raise typer.Exit(code=0)
    _open_tui()


@reports_errors
def _open_tui(chapter: str | None = None, course: str | None = None) -> None:
    from dl_course import service
    from dl_course.tui import run

    run(service.open_course(course), chapter=chapter, course=course)


@app.command()
@reports_errors
def start(chapter: Annotated[str, typer.Argument(help="The chapter: 9, ch9, chapter9 or chapter09.")],
          no_tui: Annotated[bool, typer.Option("--no-tui", help="Do not open the terminal UI afterwards.")] = False,
          course: CourseOpt = None) -> None:
    """Create (or find) your workspace and write the chapter's exercise files; never overwrites your work.
    Then opens the course at that chapter (on a terminal, unless --no-tui)."""
    from dl_course import service

    report = service.start(chapter, course)
    console = _console()
    ws = report.workspace
    if report.created_workspace:
        console.print(f"Created a dl-course workspace in {ws.root}")
    else:
        console.print(f"Using the workspace in {ws.root}")
    for path, created in report.files:
        status = "[green]created[/]" if created else "[dim]kept (already there)[/]"
        console.print(f"  {status} {ws.display(path)}")
    first = next((p for p, _ in report.files if p.suffix == ".py"), None)
    console.print(f"\nNext: read the lesson with [bold]dl-course lesson {report.chapter_id}[/], open "
                  f"[bold]{ws.display(first) if first else ''}[/] in your editor, and run "
                  f"[bold]dl-course check {first.stem if first else ''}[/].")
    if not no_tui and _on_terminal():
        _open_tui(report.chapter_id, course)


@app.command()
@reports_errors
def check(exercises: Annotated[Optional[List[str]], typer.Argument(
              help="Exercises to grade (ids or file names); default: every exercise file under this folder. "
                   "A notebook (chapter09.ipynb) first grades its tagged cells.")] = None,
          device: Annotated[Device, typer.Option(help="Where to run: auto (GPU too when there is one), cpu, "
                                                      "cuda, or all.")] = Device.auto,
          seed: Annotated[Optional[int], typer.Option(help="Draw the test inputs from this seed (replays a "
                                                           "failure reported with it).")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON (see the README for "
                                                               "the schema).")] = False,
          watch: Annotated[bool, typer.Option("--watch", "-w", help="Keep watching: check again each time you "
                                                                    "save (Ctrl-C to stop).")] = False,
          course: CourseOpt = None) -> None:
    """Grade your exercise files against the hidden checks."""
    from rich.markup import escape

    from dl_course import service

    notebooks = [a for a in exercises or [] if a.lower().endswith(".ipynb")]
    if notebooks:  # `dl-course check chapter09.ipynb [EXERCISE…]`: the notebook's tagged cells
        from dl_course.notebook import plan_check

        if len(notebooks) > 1:
            raise CourseError("check one notebook at a time: " + ", ".join(notebooks))
        plan = plan_check(notebooks[0], [a for a in exercises if a not in notebooks], course)
        ctx, chosen, run, target = plan.ctx, plan.exercises, plan.run, notebooks[0]
    else:
        ctx = service.open_course(course)
        chosen = service.select(ctx, exercises or [])
        run, target = functools.partial(service.check, ctx, chosen), None
    console = _console()
    if as_json or not console.is_terminal:
        results = run(device=device.value, seed=seed)
    else:
        with console.status(f"grading {', '.join(e.id for e in chosen)}…") as status:
            results = run(device=device.value, seed=seed, on_progress=lambda line: status.update(escape(line)))
    from dl_course.render import print_results, results_json

    if as_json:
        sys.stdout.write(json.dumps(results_json(results), indent=2) + "\n")
    else:
        print_results(console, results, ctx.pack, target=target)
    if watch:
        watched = [Path(target)] if target else [ctx.need_workspace().file_for(ctx.pack, e) for e in chosen]
        def again(warm):
            if target:  # a notebook: put its cells together again from the saved file
                from dl_course.notebook import plan_check

                return plan_check(target, [a for a in exercises if a != target], course).run(
                    device=device.value, seed=seed, warm=warm)
            return service.check(ctx, chosen, device=device.value, seed=seed, warm=warm)

        _watch(console, watched, again,
               lambda rs: sys.stdout.write(json.dumps(results_json(rs)) + "\n") if as_json
               else print_results(console, rs, ctx.pack, target=target))
    raise typer.Exit(code=0 if all(r.passed for r in results) else 1)


def _watch(console, paths: list[Path], grade_once: Callable, show: Callable) -> None:
    """Re-check on every save, on a warm judge, until Ctrl-C."""
    from dl_course.grading.runner import WarmJudge
    from dl_course.watch import changes_sync

    warm = WarmJudge().start()
    names = ", ".join(p.name for p in paths)
    console.print(f"[dim]watching {names}: save to check again, Ctrl-C to stop[/]")
    try:
        for _ in changes_sync(paths):
            console.rule("[dim]changed: checking again[/]")
            show(grade_once(warm))
            console.print(f"[dim]watching {names}…[/]")
    except KeyboardInterrupt:
        pass
    finally:
        warm.close()


@app.command("list")
@reports_errors
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
          course: CourseOpt = None) -> None:
    """List chapters and exercises with your status and the path of each file."""
    from dl_course import service

    rows = service.listing(service.open_course(course))
    if as_json:
        sys.stdout.write(json.dumps({"chapters": rows}, indent=2) + "\n")
        return
    from dl_course.render import print_listing

    print_listing(_console(), rows)


@app.command()
@reports_errors
def progress(course: CourseOpt = None) -> None:
    """Show how far you are, chapter by chapter."""
    from dl_course import service
    from dl_course.render import print_progress

    ctx = service.open_course(course)
    ctx.need_workspace()
    print_progress(_console(), service.listing(ctx))


@app.command()
@reports_errors
def hint(exercise: Annotated[str, typer.Argument(help="The exercise id.")], course: CourseOpt = None) -> None:
    """Show the next hint (the one about your latest failure first)."""
    from dl_course import service

    ctx = service.open_course(course)
    report = service.next_hint(ctx, ctx.pack.exercise(exercise))
    from rich.markdown import Markdown
    from rich.panel import Panel

    console = _console()
    if report.hint is None:
        console.print(f"No more hints for {report.exercise} (you have seen all {report.total}). "
                      f"`dl-course lesson` has the full story; `dl-course solution {report.exercise} --reveal` "
                      "shows the answer.")
        return
    title = f"Hint {report.number} of {report.total} · {report.exercise}"
    if report.why:
        title += f" · {report.why}"
    console.print(Panel(Markdown(report.hint.text), title=title, title_align="left", border_style="cyan"))


@app.command()
@reports_errors
def solution(exercise: Annotated[str, typer.Argument(help="The exercise id.")],
             reveal: Annotated[bool, typer.Option(help="Show it even before you pass (recorded).")] = False,
             course: CourseOpt = None) -> None:
    """Show the reference solution (after you pass, or with --reveal)."""
    from dl_course import service

    ctx = service.open_course(course)
    text = service.solution(ctx, ctx.pack.exercise(exercise), reveal=reveal)
    from rich.syntax import Syntax

    _console().print(Syntax(text, "python", line_numbers=True))


@app.command()
@reports_errors
def reset(exercise: Annotated[str, typer.Argument(help="The exercise id.")],
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
          course: CourseOpt = None) -> None:
    """Put the starter file back (your current file is backed up first)."""
    from dl_course import service

    ctx = service.open_course(course)
    ex = ctx.pack.exercise(exercise)
    path = ctx.need_workspace().file_for(ctx.pack, ex)
    if not yes and sys.stdin.isatty() and path.exists():
        typer.confirm(f"Replace {path} with the starter? (a backup is kept)", abort=True)
    path, backup = service.reset(ctx, ex)
    console = _console()
    if backup:
        console.print(f"Backed up your file to {backup}")
    console.print(f"{path} is the starter again.")


@app.command()
@reports_errors
def lesson(chapter: Annotated[str, typer.Argument(help="The chapter: 9, ch9, chapter9 or chapter09.")],
           course: CourseOpt = None) -> None:
    """Print a chapter's lesson in the terminal."""
    from dl_course import service

    text = service.lesson_text(service.open_course(course), chapter)
    from rich.markdown import Markdown

    console = _console()
    with console.pager(styles=True) if sys.stdout.isatty() else _nullcontext():
        console.print(Markdown(text, code_theme="monokai"))


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
    console = _console()
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


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@author_app.command("new")
@reports_errors
def author_new(spec: Annotated[str, typer.Argument(help="CHAPTER/EXERCISE_ID, e.g. chapter9/my_exercise.")],
               course: Annotated[Optional[Path], typer.Option("--course", metavar="DIR",
                                                              help="The pack to add to (default: this folder).")
                                 ] = None) -> None:
    """Scaffold a new exercise: manifest, starter, reference, hidden suite and known mistakes."""
    from dl_course.author import new_exercise

    files = new_exercise((course or Path.cwd()).resolve(), spec)
    console = _console()
    for path in files:
        console.print(f"  wrote {path}")
    exercise_id = spec.split("/", 1)[1]
    console.print(f"\nFill in every TODO, then prove it sound: [bold]dl-course author validate {exercise_id}[/]")


@author_app.command("validate")
@reports_errors
def author_validate(exercises: Annotated[Optional[List[str]], typer.Argument(
                        help="Exercise ids (default: the whole course).")] = None,
                    device: Annotated[Device, typer.Option(help="Where to run the checks.")] = Device.auto,
                    course: CourseOpt = None) -> None:
    """Prove exercises sound: reference passes, starter fails, every known mistake caught and named."""
    from dl_course.author import validate
    from dl_course.course import load_pack

    pack = load_pack(course)
    chosen = [pack.exercise(e) for e in exercises] if exercises else list(pack.exercises.values())
    verdicts = validate(pack, chosen, device=device.value)
    from rich.table import Table
    from rich.text import Text

    console = _console()
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
    raise typer.Exit(code=0 if all(v.ok for v in verdicts) else 1)


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
                course: CourseOpt = None) -> None:
    """Grade a class: every student's files, a gradebook that a re-run reuses, CSV/JSON exports and a
    misconception report.

    The instructor's path: `dl-course author new` → `dl-course author validate` → hand out the
    chapter (`dl-course start`) → collect one folder or zip per student into SUBMISSIONS →
    `dl-course grade SUBMISSIONS --out grades` → grades/grades.csv, grades.json, misconceptions.md.
    An interrupted run keeps what it graded: run the same command again to resume.
    """
    from dl_course.classroom.export import export_all
    from dl_course.classroom.run import default_workers, prepare
    from dl_course.classroom.view import grade_with_progress, print_plan, print_summary
    from dl_course.course import load_pack

    pack = load_pack(course)
    plan = prepare(pack, submissions, out, course=course, exercise_ids=exercise, device=device.value, seed=seed,
                   regrade=regrade)
    console = _console()
    print_plan(console, plan)
    report = grade_with_progress(console, plan, workers or default_workers(), scheduler, batch_size)
    misconceptions = export_all(plan.gradebook, plan.exercises, pack, out)
    print_summary(console, report, misconceptions, out)
    raise typer.Exit(code=130 if report.interrupted else (1 if report.not_graded else 0))


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
               course: CourseOpt = None) -> None:
    """Grade a Gradescope submission and write Gradescope's results.json (for run_autograder)."""
    from dl_course.classroom.gradescope import gradescope_results, write_results
    from dl_course.course import load_pack

    if visibility not in ("visible", "hidden", "after_due_date", "after_published"):
        raise typer.BadParameter(f"unknown visibility {visibility!r}", param_hint="--visibility")
    answer = gradescope_results(load_pack(course), course, submission, exercise, device=device.value,
                                visibility=visibility)
    write_results(answer, results)
    _console().print(f"{answer['output'].splitlines()[0]} · wrote {results}")


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
