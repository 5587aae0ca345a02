"""Rich views of results, listings and progress for the terminal.

Text from a verdict is clean already (see `grading.result`) and is placed as `rich.text.Text`, never
parsed as markup; names the learner chose (a notebook's file name) are shown with their control
characters made visible (`dl_course.textsafe.visible`)."""

from __future__ import annotations

import shlex
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
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
    for c in r.checks:
        m, col = _MARKS.get(c.status, ("?", "white"))
        console.print(Text.assemble(("  " + m + " ", col), (f"{c.name:<12}", col if c.status != "passed" else ""),
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
    styles = {"passed": "green", "failed": "red", "started": "yellow", "not started": "dim",
              "passed before": "yellow"}
    for chapter in chapters:
        table = Table(title=f"Chapter {chapter['number']}: {chapter['title']}  ({chapter['id']})",
                      title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("exercise")
        table.add_column("title")
        table.add_column("status")
        table.add_column("score", justify="right")
        table.add_column("file", overflow="fold")
        for row in chapter["exercises"]:
            score = "" if row["best_score"] is None else f"{row['best_score']:g}/{row['points']}"
            table.add_row(row["id"], row["title"], Text(row["status"], style=styles.get(row["status"], "")), score,
                          escape(row["file"] or "") if row["exists"] else Text("—", style="dim"))
        console.print(table)
        console.print()


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
