"""The learner's commands: start, check (and --watch), list, progress, hint, solution, reset."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Callable, List, Optional

import typer

from dl_course.cli.common import CourseOpt, Device, app, make_console, on_terminal, open_tui, reports_errors
from dl_course.errors import CourseError


@app.command()
@reports_errors
def start(chapter: Annotated[str, typer.Argument(help="The chapter: 9, ch9, chapter9 or chapter09.")],
          no_tui: Annotated[bool, typer.Option("--no-tui", help="Do not open the terminal UI afterwards.")] = False,
          course: CourseOpt = None) -> None:
    """Create (or find) your workspace and write the chapter's exercise files; never overwrites your work.
    Then opens the course at that chapter (on a terminal, unless --no-tui)."""
    from dl_course import service

    report = service.start(chapter, course)
    console = make_console()
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
    if not no_tui and on_terminal():
        open_tui(report.chapter_id, course)


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

    _need_gpu(device.value)
    notebooks = [a for a in exercises or [] if a.lower().endswith(".ipynb")]
    if notebooks:  # `dl-course check chapter09.ipynb [EXERCISE…]`: the notebook's tagged cells
        from dl_course.notebook import plan_check

        if len(notebooks) > 1:
            raise CourseError("check one notebook at a time: " + ", ".join(notebooks))
        plan = plan_check(notebooks[0], [a for a in exercises if a not in notebooks], course)
        ctx, chosen, target = plan.ctx, plan.exercises, notebooks[0]
        run = functools.partial(plan.run, record_now=False)
        if plan.notes:  # a broken cell an exercise does not need was left out: say so
            from rich.text import Text

            said = make_console(stderr=True)
            for note in plan.notes:
                said.print(Text(f"note: {note}", style="yellow"))
    else:
        ctx = service.open_course(course)
        chosen = service.select(ctx, exercises or [])
        run, target = functools.partial(service.check, ctx, chosen, record_now=False), None
    console = make_console()
    ctx.on_wait = _say_waiting
    if as_json or not console.is_terminal:
        results = run(device=device.value, seed=seed)
    else:
        with console.status(f"grading {', '.join(e.id for e in chosen)}…") as status:
            results = run(device=device.value, seed=seed, on_progress=lambda line: status.update(escape(line)))
    from dl_course.render import print_results, results_json

    if results and all("CUDA was asked for" in (r.error or "") for r in results):
        ctx.pending.clear()  # not a verdict on the code: nothing is recorded
        raise CourseError(f"--device {device.value}: torch sees no GPU here; check with --device cpu (or auto)")

    def show(rs, where, indent: int | None = 2) -> None:
        """Print the verdict, then record it (which may wait for a lock, saying so), then say what
        could not be recorded: the verdict is never held back by the bookkeeping."""
        if not as_json:
            print_results(console, rs, ctx.pack, target=target, passing=service.passing(where),
                          watching=watch)
        service.record_pending(where)
        notes = where.not_saved
        if as_json:
            doc = results_json(rs)
            if notes:
                doc["not_saved"] = list(notes)
            sys.stdout.write(json.dumps(doc, indent=indent) + "\n")
        say_not_saved(notes)
        notes.clear()

    show(results, ctx)
    if not as_json:
        from dl_course.cli.isolation import ADVISORY, boundary_missing

        why = boundary_missing()
        if why:
            make_console(stderr=True).print(ADVISORY.format(why=why), style="yellow")
    if watch:
        watched = [Path(target)] if target else [ctx.need_workspace().file_for(ctx.pack, e) for e in chosen]

        def again(warm):
            if target:  # a notebook: put its cells together again from the saved file
                from dl_course.notebook import plan_check

                fresh = plan_check(target, [a for a in exercises if a != target], course)
                fresh.ctx.on_wait = _say_waiting
                return fresh.run(device=device.value, seed=seed, warm=warm, record_now=False), fresh.ctx
            return service.check(ctx, chosen, device=device.value, seed=seed, warm=warm, record_now=False), ctx

        _watch(console, watched, again, lambda done: show(*done, indent=None))
    raise typer.Exit(code=0 if all(r.passed for r in results) else 1)


def _need_gpu(device: str) -> None:
    """`--device cuda`/`all` without a GPU is a usage error (exit 2), not a failed attempt."""
    if device in ("cuda", "all"):
        from dl_course.grading.runner import _cuda_visible

        if not _cuda_visible():
            raise CourseError(f"--device {device}: there is no GPU here (no NVIDIA driver found); "
                              "check with --device cpu, or auto (which adds the GPU when there is one)")


def _say_waiting(line: str) -> None:
    """Said at once when recording waits for another process's lock on the progress store."""
    from rich.text import Text

    make_console(stderr=True).print(Text.assemble(("note: ", "bold yellow"), line))


def say_not_saved(notes: list[str]) -> None:
    """One line on stderr for each thing that could not be recorded (the output above stands)."""
    from rich.text import Text

    for line in notes:
        make_console(stderr=True).print(Text.assemble(("not saved: ", "bold yellow"), line))


def _say_read_only(ctx) -> None:
    if ctx.read_only:
        from rich.text import Text

        make_console(stderr=True).print(Text.assemble(
            ("note: ", "bold yellow"), f"{ctx.workspace.root} is read-only: checks are graded and shown, "
                                       "but nothing is recorded"))


def _watch(console, paths: list[Path], grade_once: Callable, show: Callable) -> None:
    """Re-check on every save, on a warm judge, until Ctrl-C.

    A watched file that goes missing (deleted, `git stash`, an editor's slow save) is said once and
    waited for; a check that cannot run (the file vanished mid-check, a notebook that no longer
    reads) says why, and watching goes on."""
    from rich.markup import escape
    from rich.text import Text

    from dl_course.grading.runner import WarmJudge
    from dl_course.watch import changes_sync

    warm = WarmJudge().start()
    names = ", ".join(p.name for p in paths)
    console.print(f"[dim]watching {escape(names)}: save to check again, Ctrl-C to stop[/]")
    was_missing: list[Path] = []
    try:
        for changed in changes_sync(paths, idle_ms=1000):
            missing = [p for p in paths if not p.is_file()]
            if not changed and missing == was_missing:
                continue  # nothing new (a quiet second)
            if missing:
                if missing != was_missing:
                    console.print(Text.assemble(("missing: ", "bold yellow"), ", ".join(str(p) for p in missing),
                                                " is not there (deleted, stashed, or being saved); "
                                                "waiting for it to come back…"))
                was_missing = missing
                continue
            if was_missing:
                console.rule("[dim]back: checking again[/]")
            else:
                console.rule("[dim]changed: checking again[/]")
            was_missing = []
            try:
                results = grade_once(warm)
            except (OSError, CourseError) as e:
                console.print(Text.assemble(("cannot check now: ", "bold yellow"), str(e)))
            else:
                show(results)
            console.print(f"[dim]watching {escape(names)}…[/]")
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

    ctx = service.open_course(course)
    rows = service.listing(ctx)
    if as_json:
        sys.stdout.write(json.dumps({"chapters": rows}, indent=2) + "\n")
        return
    from dl_course.render import print_listing

    print_listing(make_console(), rows)
    _say_read_only(ctx)


@app.command()
@reports_errors
def progress(course: CourseOpt = None) -> None:
    """Show how far you are, chapter by chapter."""
    from dl_course import service
    from dl_course.render import print_progress

    ctx = service.open_course(course)
    ctx.need_workspace()
    print_progress(make_console(), service.listing(ctx))
    _say_read_only(ctx)


@app.command()
@reports_errors
def hint(exercise: Annotated[str, typer.Argument(help="The exercise id.")], course: CourseOpt = None) -> None:
    """Show the next hint (the one about your latest failure first)."""
    from dl_course import service

    ctx = service.open_course(course)
    ctx.on_wait = _say_waiting
    report = service.next_hint(ctx, service.exercise(ctx.pack, exercise))
    from rich.markdown import Markdown
    from rich.panel import Panel

    console = make_console()
    if report.hint is None:
        console.print(f"No more hints for {report.exercise} (you have seen all {report.total}). "
                      f"`dl-course lesson` has the full story; `dl-course solution {report.exercise} --reveal` "
                      "shows the answer.")
        return
    title = f"Hint {report.number} of {report.total} · {report.exercise}"
    if report.why:
        title += f" · {report.why}"
    console.print(Panel(Markdown(report.hint.text), title=title, title_align="left", border_style="cyan"))
    say_not_saved(ctx.not_saved)


@app.command()
@reports_errors
def solution(exercise: Annotated[str, typer.Argument(help="The exercise id.")],
             reveal: Annotated[bool, typer.Option(help="Show it even before you pass (recorded).")] = False,
             course: CourseOpt = None) -> None:
    """Show the reference solution (after you pass, or with --reveal)."""
    from dl_course import service

    ctx = service.open_course(course)
    ctx.on_wait = _say_waiting
    text = service.solution(ctx, service.exercise(ctx.pack, exercise), reveal=reveal)
    if not sys.stdout.isatty():  # `> reference.py`: the code itself, runnable
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        from rich.syntax import Syntax

        make_console().print(Syntax(text, "python", line_numbers=True))
    say_not_saved(ctx.not_saved)


@app.command()
@reports_errors
def reset(exercise: Annotated[str, typer.Argument(help="The exercise id.")],
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
          course: CourseOpt = None) -> None:
    """Put the starter file back (your current file is backed up first)."""
    from dl_course import service

    ctx = service.open_course(course)
    ex = service.exercise(ctx.pack, exercise)
    path = ctx.need_workspace().file_for(ctx.pack, ex)
    if not yes and sys.stdin.isatty() and path.exists():
        typer.confirm(f"Replace {path} with the starter? (a backup is kept)", abort=True)
    path, backup = service.reset(ctx, ex)
    console = make_console()
    if backup:
        console.print(f"Backed up your file to {backup}")
    console.print(f"{path} is the starter again.")
