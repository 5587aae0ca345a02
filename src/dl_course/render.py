"""Rich views of results, listings and progress for the terminal.

Text from a verdict is clean already (see `grading.result`) and is placed as `rich.text.Text`, never
parsed as markup; names the learner chose (a notebook's file name) are shown with their control
characters made visible (`dl_course.textsafe.visible`)."""

from __future__ import annotations

import shlex
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dl_course.textsafe import visible

__all__ = ["print_results", "print_listing", "print_progress", "results_json"]

_MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "magenta"), "not_run": ("·", "dim")}


def results_json(results: list[Any]) -> dict[str, Any]:
    from dl_course.grading.result import SCHEMA_VERSION

    return {"schema_version": SCHEMA_VERSION, "passed": all(r.passed for r in results),
            "results": [r.to_dict() for r in results]}


def print_results(console: Console, results: list[Any], pack: Any, target: str | None = None,
                  passing: set[str] | frozenset[str] = frozenset(), watching: bool = False) -> None:
    """`target`: a notebook the results came from, so the next commands name it (`check NB.ipynb ID`).
    `passing`: exercises that passed before (as recorded), so "Next:" names one still to do.
    `watching`: `check --watch` is running, so a fix needs only a save, not another command."""
    again = f"dl-course check {shlex.quote(visible(target))} " if target else "dl-course check "
    for result in results:
        _print_one(console, result)
    if len(results) > 1:
        passed = sum(r.passed for r in results)
        score = sum(r.score for r in results)
        total = sum(r.max_score for r in results)
        style = "bold green" if passed == len(results) else "bold"
        console.print(Text(f"{passed} of {len(results)} exercises passed · {score:g}/{total} points", style=style))
    failing = [r for r in results if not r.passed]
    if failing:
        first = failing[0]
        then = "save, and it is checked again" if watching else f"then `{again}{first.exercise}`"
        parts = [("Next: ", "bold"), f"fix {first.exercise}, {then}", f"  ·  stuck? `dl-course hint {first.exercise}`"]
        # The seed replays the inputs of a failing case; where no case failed (a syntax error, a
        # missing name) there are no inputs to replay.
        if first.seed is not None and any(c.case for c in first.checks if c.status == "failed"):
            parts.append(f"  ·  same inputs again: `{again}{first.exercise} --seed {first.seed}`")
        console.print(Text.assemble(*parts))
    elif results:
        done = set(passing) | {r.exercise for r in results}
        nxt = _next_exercise(pack, results[-1].exercise, done)
        msg = f"Well done. Next: `{again}{nxt}`" if nxt else "Well done: every exercise here passes."
        console.print(Text(msg, style="green"))


def _order(pack: Any) -> list[str]:
    return [e for c in pack.chapters for e in c.exercises]


def _next_exercise(pack: Any, exercise_id: str, done: set[str]) -> str | None:
    """The first exercise after `exercise_id` in course order that is not done, else the first
    one before it that is not (an exercise skipped earlier)."""
    order = _order(pack)
    at = order.index(exercise_id) + 1 if exercise_id in order else 0
    return next((e for e in order[at:] + order[:at] if e not in done), None)


def _print_one(console: Console, r: Any) -> None:
    mark, colour = ("✓", "green") if r.passed else ("✗", "red")
    points = f"not started · 0/{r.max_score}" if getattr(r, "not_started", False) else f"{r.score:g}/{r.max_score}"
    head = Text.assemble((f"{mark} {r.exercise}", f"bold {colour}"), f"  {r.title}  ",
                         (points, "bold"), (f"  {r.duration_s:.1f} s", "dim"))
    if r.file:
        head.append(f"  {r.file}", style="dim")
    console.print(head)
    if r.error:
        console.print(Padding(Text(r.error, style="red"), (0, 0, 0, 4)))
    shown_failure = False
    width = max([11, *(len(c.name) for c in r.checks)]) + 1  # a long check name never runs into its title
    for c in r.checks:
        m, col = _MARKS.get(c.status, ("?", "white"))
        console.print(Text.assemble(("  " + m + " ", col), (f"{c.name:<{width}}", col if c.status != "passed" else ""),
                                    (c.title, "dim" if c.status == "not_run" else "")))
        if c.status == "passed" and c.message:
            console.print(Padding(Text(c.message, style="dim"), (0, 0, 0, 6)))
        if c.status in ("failed", "error") and not shown_failure:
            shown_failure = True
            console.print(Padding(Text(c.message, style="red" if c.status == "failed" else "magenta"),
                                  (0, 0, 0, 6)))
    if r.diagnosis:
        body = Group(Text(r.diagnosis.get("message", ""), style="bold"),
                     Text(f"known mistake: {r.diagnosis.get('id')}", style="dim"))
        console.print(Padding(Panel(body, title="What went wrong", border_style="yellow", expand=False),
                              (0, 0, 0, 4)))
    if r.output.strip():
        console.print(Padding(Panel(Text(r.output.rstrip()[-3000:]), title="Your code printed", border_style="dim",
                                    expand=False), (0, 0, 0, 4)))


def print_listing(console: Console, chapters: list[dict]) -> None:
    """One table a chapter. Names are never broken mid-word: the exercise, status, score and file
    stay whole and only the title wraps. Where the paths do not fit (an 80-column terminal) and
    each file is the exercise's own `FOLDER/ID.py`, the caption says so once instead of a column."""
    styles = {"passed": "green", "failed": "red", "started": "yellow", "not started": "dim",
              "passed before": "yellow", "reset": "yellow"}
    for chapter in chapters:
        rows = chapter["exercises"]
        files = [row["file"] or "" for row in rows if row["exists"]]
        folder = _common_folder(files)
        widest = lambda values: max((len(v) for v in values), default=0)  # noqa: E731
        fixed = widest(r["id"] for r in rows) + widest(r["status"] for r in rows) + 7 + 4 * 3
        own = folder is not None and all(r["file"] == f"{folder}{r['id']}.py" for r in rows if r["exists"])
        short = own and fixed + widest(files) + 14 > console.width
        table = Table(title=f"Chapter {chapter['number']}: {chapter['title']}  ({chapter['id']})",
                      title_justify="left", show_edge=False, pad_edge=False,
                      caption=f"each exercise's file: {folder}EXERCISE.py" if short else None, caption_justify="left")
        table.add_column("exercise", no_wrap=True)
        table.add_column("title", ratio=1, min_width=10)
        table.add_column("status", no_wrap=True)
        table.add_column("score", justify="right", no_wrap=True)
        if not short:
            table.add_column("file", no_wrap=True, overflow="ellipsis")
        for row in rows:
            score = "" if row["best_score"] is None else f"{row['best_score']:g}/{row['points']}"
            cells = [row["id"], row["title"], Text(row["status"], style=styles.get(row["status"], "")), score]
            if not short:
                cells.append(Text(visible(row["file"] or "")) if row["exists"] else Text("—", style="dim"))
            table.add_row(*cells)
        console.print(table)
        console.print()


def _common_folder(files: list[str]) -> str | None:
    """The folder (ending in /) every file is in, when they share one."""
    folders = {f.rsplit("/", 1)[0] + "/" for f in files if "/" in f}
    return folders.pop() if len(folders) == 1 and all("/" in f for f in files) else None


def print_progress(console: Console, chapters: list[dict]) -> None:
    total = sum(len(c["exercises"]) for c in chapters)
    done = sum(r["status"] in ("passed", "passed before") for c in chapters for r in c["exercises"])
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("chapter")
    table.add_column("progress")
    table.add_column("passed", justify="right")
    table.add_column("points", justify="right")
    for c in chapters:
        n = len(c["exercises"])
        ok = sum(r["status"] in ("passed", "passed before") for r in c["exercises"])
        pts = sum(r["best_score"] or 0 for r in c["exercises"])
        max_pts = sum(r["points"] for r in c["exercises"])
        width = 20
        filled = int(round(width * ok / n)) if n else 0
        bar = Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")
        table.add_row(f"{c['id']}  {c['title']}", bar, f"{ok}/{n}", f"{pts:g}/{max_pts}")
    console.print(table)
    console.print(Text(f"{done} of {total} exercises passed", style="bold"))
