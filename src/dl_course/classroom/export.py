"""What a graded class exports, all from the gradebook's latest roster and verdicts.

    grades.csv            one row a student: a column per exercise (its score; 0 = not submitted or
                          refused; empty = handed in but not graded yet), total, out_of (the
                          points of the exercise columns), not_submitted and not_graded (the
                          exercise ids of each kind, space-separated)
    grades.json           every student, every exercise, every check's result and message
    misconceptions.md     per exercise: how many passed, how many submissions each known mistake
    misconceptions.json   was diagnosed in, and the failures no known mistake explains (by check)

Student text is escaped for where it goes: a student's name (a submission folder's name) is written
with its control characters made visible (`dl_course.textsafe.visible`), in grades.csv never as a
formula (`=cmd|...`), and misconceptions.md shows names, failure messages and mistake messages as
text (HTML as entities, Markdown syntax escaped), never as markup. Verdicts are clean already (see
`grading.result`).

Nothing here imports torch.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from dl_course.classroom.gradebook import Gradebook, RosterEntry
from dl_course.course.model import Exercise, Pack
from dl_course.grading.result import SCHEMA_VERSION, ExerciseResult
from dl_course.textsafe import clean, csv_cell, markdown_code, markdown_text, visible

__all__ = ["export_all", "gradebook_rows", "grades_csv", "grades_json", "misconceptions", "misconceptions_markdown",
           "misconception_table", "known_mistakes"]

_Row = tuple[RosterEntry, ExerciseResult | None]


def known_mistakes(ex: Exercise) -> list[tuple[str, str]]:
    """(id, message) of each known mistake declared in the exercise's mistakes.py.

    Read from the file's syntax tree (this process never runs pack code): every decorator
    `@mistake("id", "message", ...)` with literal strings."""
    import ast

    try:
        tree = ast.parse(ex.mistakes.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        for deco in getattr(node, "decorator_list", ()):
            if not (isinstance(deco, ast.Call) and getattr(deco.func, "id", getattr(deco.func, "attr", None)) == "mistake"):
                continue
            args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in deco.args]
            if args and args[0]:
                out.append((args[0], args[1] if len(args) > 1 and args[1] else ""))
    out.sort(key=lambda m: _line_of(tree, m[0]))
    return out


def _line_of(tree, mistake_id: str) -> int:
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == mistake_id:
            return node.lineno
    return 0


def gradebook_rows(book: Gradebook, exercises: list[Exercise]) -> dict[str, dict[str, _Row]]:
    """Per student, per exercise id: the roster entry and its verdict (if graded)."""
    wanted = {e.id for e in exercises}
    table: dict[str, dict[str, _Row]] = {}
    for entry, result in book.current():
        if entry.exercise in wanted:
            table.setdefault(entry.student, {})[entry.exercise] = (entry, result)
    return dict(sorted(table.items()))


def _score(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def grades_csv(table: dict[str, dict[str, _Row]], exercises: list[Exercise]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", *(e.id for e in exercises), "total", "out_of", "not_submitted", "not_graded"])
    out_of = sum(e.points for e in exercises)
    for student, row in table.items():
        cells, total, missing, pending = [], 0.0, [], []
        for ex in exercises:
            entry, result = row.get(ex.id, (None, None))
            if entry is None or entry.status in ("missing", "refused"):
                cells.append("0")  # a real zero: nothing gradable was handed in
                if entry is None or entry.status == "missing":
                    missing.append(ex.id)
            elif result is None:
                cells.append("")  # handed in, no verdict yet: blank, and named in not_graded
                pending.append(ex.id)
            else:
                cells.append(_score(result.score))
                total += result.score
        writer.writerow([csv_cell(visible(student)), *cells, _score(total), out_of, csv_cell(" ".join(missing)),
                         csv_cell(" ".join(pending))])
    return buf.getvalue()


def grades_json(table: dict[str, dict[str, _Row]], exercises: list[Exercise], pack: Pack) -> dict[str, Any]:
    students = []
    for student, row in table.items():
        per = {}
        total = 0.0
        for ex in exercises:
            entry, result = row.get(ex.id, (None, None))
            status = entry.status if entry is not None else "missing"
            if status == "submitted":
                status = "graded" if result is not None else "not_graded"
            per[ex.id] = {"status": status, "file": clean(entry.file) if entry and entry.file else None,
                          "code_hash": entry.code_hash if entry else None,
                          "note": clean(entry.note) if entry and entry.note else None,
                          "result": result.to_dict() if result is not None else None}
            total += result.score if result is not None else 0.0
        students.append({"student": visible(student), "total": round(total, 2), "out_of": sum(e.points for e in exercises),
                         "exercises": per})
    return {"schema_version": SCHEMA_VERSION, "course": str(pack.root),
            "exercises": [{"id": e.id, "title": e.title, "points": e.points} for e in exercises],
            "students": students}


def _first_line(text: str | None) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= 200 else line[:197] + "…"


def misconceptions(table: dict[str, dict[str, _Row]], exercises: list[Exercise]) -> dict[str, Any]:
    out = []
    for ex in exercises:
        known = known_mistakes(ex)
        counts: Counter[str] = Counter()
        who: dict[str, list[str]] = defaultdict(list)
        messages: dict[str, str] = dict(known)
        unexplained: dict[str, dict[str, Any]] = {}
        stopped: dict[str, dict[str, Any]] = {}
        submitted = passed = missing = pending = 0
        for student, row in table.items():
            entry, result = row.get(ex.id, (None, None))
            if entry is None or entry.status != "submitted":
                missing += 1
                continue
            if result is None:
                pending += 1
                continue
            submitted += 1
            if result.passed:
                passed += 1
                continue
            diagnosis = result.diagnosis or {}
            if diagnosis.get("id"):
                counts[diagnosis["id"]] += 1
                who[diagnosis["id"]].append(visible(student))
                messages.setdefault(diagnosis["id"], diagnosis.get("message", ""))
                continue
            first = result.first_failure
            check = first.name if first is not None else "error"
            text = first.message if first is not None else result.error
            why = result.stopped
            if why:  # no answer to study: kept apart from the candidates for new mistakes
                group = stopped.setdefault(why, {"reason": why, "count": 0, "students": [], "examples": []})
            else:
                group = unexplained.setdefault(check, {"check": check, "title": first.title if first else
                                                       "could not be graded", "count": 0, "students": [],
                                                       "examples": []})
            group["count"] += 1
            group["students"].append(visible(student))
            line = _first_line(text)
            if line and line not in group["examples"] and len(group["examples"]) < 3:
                group["examples"].append(line)
        ids = [m for m, _ in known] + sorted(set(counts) - {m for m, _ in known})
        out.append({
            "exercise": ex.id, "title": ex.title, "submitted": submitted, "passed": passed,
            "failed": submitted - passed, "not_submitted": missing, "not_graded": pending,
            "mistakes": [{"id": m, "message": messages.get(m, ""), "count": counts[m], "students": who[m]}
                         for m in ids],
            "unexplained": {"count": sum(g["count"] for g in unexplained.values()),
                            "by_check": sorted(unexplained.values(), key=lambda g: -g["count"])},
            "stopped": {"count": sum(g["count"] for g in stopped.values()),
                        "by_reason": sorted(stopped.values(), key=lambda g: -g["count"])},
        })
    return {"schema_version": 1, "exercises": out}


def misconceptions_markdown(report: dict[str, Any]) -> str:
    lines = ["# Misconception report", ""]
    for ex in report["exercises"]:
        lines += [f"## {markdown_text(ex['exercise'])} — {markdown_text(ex['title'])}", "",
                  f"{ex['passed']} of {ex['submitted']} graded submissions passed"
                  + (f"; {ex['not_submitted']} not submitted" if ex["not_submitted"] else "")
                  + (f"; {ex['not_graded']} not graded yet" if ex["not_graded"] else "") + ".", ""]
        lines += ["| known mistake | submissions | what it means |", "| --- | ---: | --- |"]
        for m in ex["mistakes"]:
            lines.append(f"| {markdown_code(m['id'])} | {m['count']} | {markdown_text(m['message'])} |")
        lines.append("")
        un, gone = ex["unexplained"], ex["stopped"]
        if un["count"]:
            lines += _groups_table(f"**{un['count']} {'failure' if un['count'] == 1 else 'failures'} no known mistake "
                                   "explains** (candidates for new mistakes):", "failing check",
                                   [(markdown_code(g["check"]), g) for g in un["by_check"]])
        elif not gone["count"]:
            lines += ["Every failure is explained by a known mistake.", ""]
        if gone["count"]:
            lines += _groups_table(f"**{gone['count']} {'submission' if gone['count'] == 1 else 'submissions'} gave "
                                   "no answer to study** (time-outs, crashes, files that do not load; not candidates "
                                   "for new mistakes):", "why", [(markdown_text(g["reason"]), g) for g in gone["by_reason"]])
    return "\n".join(lines)


def _groups_table(heading: str, first: str, groups: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """A Markdown table of failure groups: the group's name (already escaped), count, students, an example."""
    lines = [heading, "", f"| {first} | submissions | students | example |", "| --- | ---: | --- | --- |"]
    for name, g in groups:
        lines.append(f"| {name} | {g['count']} | {markdown_text(', '.join(visible(s) for s in g['students']))} | "
                     f"{markdown_text(g['examples'][0] if g['examples'] else '')} |")
    return lines + [""]


def misconception_table(report: dict[str, Any]):
    """The report as a Rich table, for the terminal."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="What the class got wrong", title_justify="left", show_lines=True)
    table.add_column("exercise", style="bold")
    table.add_column("passed", justify="right")
    table.add_column("known mistakes (submissions)")
    table.add_column("failures no known mistake explains")
    for ex in report["exercises"]:
        mistakes = Text()
        for m in sorted((m for m in ex["mistakes"] if m["count"]), key=lambda m: -m["count"]):
            if mistakes:
                mistakes.append("\n")
            mistakes.append(f"{clean(m['id'])} ", style="yellow")
            mistakes.append(str(m["count"]), style="bold")
        unseen = sum(1 for m in ex["mistakes"] if not m["count"])
        if unseen:
            mistakes.append(f"\n+{unseen} more, not seen" if mistakes else f"{unseen} known, none seen", style="dim")
        unexplained = Text()
        for g in ex["unexplained"]["by_check"]:
            if unexplained:
                unexplained.append("\n")
            unexplained.append(f"{clean(g['check'])} ", style="red")
            unexplained.append(f"{g['count']}", style="bold")
            unexplained.append(f"  {', '.join(visible(s) for s in g['students'][:4])}"
                               f"{' …' if len(g['students']) > 4 else ''}",
                               style="dim")
        for g in ex["stopped"]["by_reason"]:  # apart: no answer to study
            if unexplained:
                unexplained.append("\n")
            unexplained.append(f"{clean(g['reason'])} ", style="magenta")
            unexplained.append(f"{g['count']}", style="bold")
        table.add_row(Text(clean(ex["exercise"])), f"{ex['passed']}/{ex['submitted']}", mistakes,
                      unexplained or Text("—", "dim"))
    return table


def export_all(book: Gradebook, exercises: list[Exercise], pack: Pack, out: Path) -> dict[str, Any]:
    """Write every export into `out`; return the misconception report."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = gradebook_rows(book, exercises)
    _write(out / "grades.csv", grades_csv(table, exercises))
    _write(out / "grades.json", json.dumps(grades_json(table, exercises, pack), indent=2) + "\n")
    report = misconceptions(table, exercises)
    _write(out / "misconceptions.json", json.dumps(report, indent=2) + "\n")
    _write(out / "misconceptions.md", misconceptions_markdown(report))
    return report


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
