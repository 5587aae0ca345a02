"""Diagnosis past the known mistakes: variants of the reference with one slip, then two.

When no known mistake gives what the learner's code gave, the judge tries the reference with one
small edit (the mutation operators: a dim moved, a scale dropped, a mask inverted, …), then with
two edits at once, and names the first that gives exactly what the learner got on every case:
"two slips together explain it". Everything here is trusted pack code (the reference) edited by
the engine, run inside the judge like a known mistake.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Iterator

from dl_course.grading.mistakes import Mistake
from dl_course.grading.targets import LocalTarget

__all__ = ["variant_targets"]


def _message(description: str, two: bool) -> str:
    if two:
        first, second = description.split("; and ", 1)
        return ("No single known mistake explains this, but two slips together do: your code gives exactly what "
                f"a right solution gives with these two changes: ({first}) and ({second}).")
    return f"Your code gives exactly what a right solution gives with one change: {description}."


def variant_targets(source: str, filename: str) -> Iterator[tuple[Mistake, LocalTarget]]:
    """The variants of the reference `source` (read by the judge before any learner code ran;
    `filename` names its lines in tracebacks) with one edit, then with two on different lines,
    as known mistakes with a generated message; each compiled only when reached."""
    from dl_course.mutation.operators import mutants, pairs
    path = Path(filename)
    try:
        singles = mutants(source)
    except Exception:  # noqa: BLE001 - a reference libcst cannot read gets no variants
        return

    def target(code: str, name: str) -> LocalTarget | None:
        namespace = {"__name__": f"_dl_course_variant_{name}", "__file__": str(path), "__builtins__": builtins}
        try:
            exec(compile(code, str(path), "exec"), namespace)  # noqa: S102 - the pack's own reference, edited
        except Exception:  # noqa: BLE001 - a variant that does not even import explains nothing
            return None
        return LocalTarget(namespace, f"variant {name}")

    for variants, two in ((singles, False), (pairs(source, singles), True)):
        for m in variants:
            made = target(m.source, m.id)
            if made is not None:
                yield Mistake(id=f"slip:{m.id}", message=_message(m.description, two), provides="", obj=None), made
