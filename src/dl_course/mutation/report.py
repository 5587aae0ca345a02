"""The mutation reports an author reads: a table on the terminal, one exercise in detail, and a
Markdown report to attach to a course release."""

from __future__ import annotations

from collections import Counter

from dl_course.mutation.run import MutationReport, diff

__all__ = ["table", "detail", "markdown"]


def _score(report: MutationReport) -> str:
    return "—" if report.score is None else f"{report.score:.0%}"


def _caught_by(report: MutationReport) -> str:
    """The checks that caught most, e.g. 'values 9, shape 3, gradients 2'."""
    counts = Counter(v.check for v in report.verdicts if v.status in ("caught", "declared-but-caught"))
    return ", ".join(f"{check} {n}" for check, n in counts.most_common(3))


def table(reports: list[MutationReport]):
    """One row per exercise (a Rich table)."""
    from rich.table import Table
    from rich.text import Text

    out = Table(show_edge=False, pad_edge=False, title="mutants of each reference", title_justify="left")
    out.add_column("exercise", no_wrap=True)
    for col in ("mutants", "caught", "named", "equiv.", "survived", "score"):
        out.add_column(col, justify="right")
    out.add_column("verdict", no_wrap=True)
    for r in reports:
        left = r.count("not run")
        verdict = Text("sound", style="green") if r.ok else Text("NOT sound", style="red") if r.problems else \
            Text(f"{left} not run", style="yellow")
        out.add_row(r.exercise, str(len(r.verdicts)), str(r.count("caught", "declared-but-caught")), str(r.named),
                    str(r.count("equivalent")), str(r.count("survived")), _score(r), verdict)
    return out


def detail(report: MutationReport, reference: str) -> list[str]:
    """Every mutant of one exercise: status, what changed, what caught it; survivors with their diff."""
    lines = [f"{report.exercise}: {len(report.verdicts)} mutants, score {_score(report)} "
             f"({report.cached} from the cache, {report.seconds:.1f} s); caught most by {_caught_by(report) or '—'}"]
    for v in report.verdicts:
        head = f"  {v.status:<20} {v.mutant.id:<16} {v.mutant.description}"
        if v.status in ("caught", "declared-but-caught"):
            head += f"  → {v.check}" + (f", named {v.diagnosis}" if v.diagnosis else "")
        elif v.status == "equivalent":
            head += f"  ({v.message})"
        lines.append(head)
        if v.status in ("survived", "declared-but-caught"):
            lines += ["      " + line for line in diff(reference, v.mutant).splitlines()]
    lines += [f"  stale declaration: {m}" for m in report.stale]
    return lines


def markdown(reports: list[MutationReport], references: dict[str, str]) -> str:
    """A report for a course release: the summary table, then each exercise's survivors and
    declared equivalents with their diffs and reasons."""
    out = ["# Mutation report", "",
           "Each mutant is a small wrong variant of an exercise's reference (a dimension moved, a mask "
           "inverted, a scale dropped, …), graded by the hidden suite like a learner's file. The score is "
           "mutants caught over mutants not declared equivalent.", "",
           "| exercise | mutants | caught | named | equivalent | survived | score |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in reports:
        out.append(f"| {r.exercise} | {len(r.verdicts)} | {r.count('caught', 'declared-but-caught')} | {r.named} | "
                   f"{r.count('equivalent')} | {r.count('survived')} | {_score(r)} |")
    for r in reports:
        shown = [v for v in r.verdicts if v.status in ("survived", "equivalent", "declared-but-caught", "not run")]
        if not shown:
            continue
        out += ["", f"## {r.exercise}", ""]
        for v in shown:
            reason = f": {v.message}" if v.status == "equivalent" and v.message else ""
            out += [f"- **{v.status}** `{v.mutant.id}` ({v.mutant.description}){reason}", "",
                    "  ```diff", *("  " + line for line in diff(references[r.exercise], v.mutant).splitlines()),
                    "  ```", ""]
    return "\n".join(out).rstrip() + "\n"
