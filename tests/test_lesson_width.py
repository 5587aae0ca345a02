"""Every line of code in every lesson fits 76 columns, so the TUI shows it whole at 80×24."""

from __future__ import annotations

import re

from conftest import BUILTIN

LIMIT = 76


def test_lesson_code_lines_fit_76_columns() -> None:
    wide = []
    lessons = sorted((BUILTIN / "curriculum").glob("*/*.md"))
    assert lessons
    for path in lessons:
        fence = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"^\s*(`{3,}|~{3,})", line)
            if m and (fence is None or m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)):
                fence = None if fence else m.group(1)
                continue
            if fence and len(line) > LIMIT:
                wide.append(f"{path.relative_to(BUILTIN)}:{number}: {len(line)} columns")
    assert not wide, f"{len(wide)} code lines are wider than {LIMIT} columns:\n" + "\n".join(wide)
