"""Which notebook `%check` grades, and whether the kernel ran code that is not in the saved file.

Which notebook: `notebook=` when given; else the one the kernel says it runs (`__session__`,
`__vsc_ipynb_file__`, `JPY_SESSION_NAME`); else the only `.ipynb` in the current folder (of several,
the only one with a cell tagged for the exercise). Unsaved changes: when the code this kernel last
ran for the exercise's names (`def NAME` / `class NAME`) is in no code cell of the saved file, the
result says so — grading reads the file, so save first.

Part of the IPython extension (`dl_course.jupyter`); imports neither IPython nor torch at import time.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from dl_course.errors import CourseError

__all__ = ["find_notebook", "unsaved_changes"]


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _kernel_names(ip: Any) -> list[str]:
    names = []
    ns = getattr(ip, "user_ns", {}) or {}
    for key in ("__session__", "__vsc_ipynb_file__"):
        if isinstance(ns.get(key), str):
            names.append(ns[key])
    if os.environ.get("JPY_SESSION_NAME"):
        names.append(os.environ["JPY_SESSION_NAME"])
    return names


def _has_tag(path: Path, exercise_ids: list[str]) -> bool:
    from dl_course.notebook.read import META, TAG_PREFIX

    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        ours = meta.get(META) if isinstance(meta.get(META), dict) else {}
        tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
        if ours.get("exercise") in exercise_ids or any(f"{TAG_PREFIX}{e}" in tags for e in exercise_ids):
            return True
    return False


def find_notebook(notebook: str | os.PathLike | None = None, exercise_ids: list[str] | None = None,
                  ip: Any = None, cwd: Path | None = None) -> Path:
    """The notebook to grade (see the module doc for the order)."""
    cwd = cwd or Path.cwd()
    if notebook:
        path = Path(notebook).expanduser()
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise CourseError(f"{notebook}: no such notebook")
        return path
    for name in _kernel_names(ip):
        p = Path(name)
        if p.suffix.lower() != ".ipynb":
            continue
        for candidate in ((p,) if p.is_absolute() else (cwd / p, cwd / p.name)):
            if candidate.is_file():
                return candidate
    found = sorted(p for p in cwd.glob("*.ipynb") if p.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise CourseError(f"no notebook in {cwd}; say which: %check ID --notebook PATH")
    if exercise_ids:
        tagged = [p for p in found if _has_tag(p, exercise_ids)]
        if len(tagged) == 1:
            return tagged[0]
    names = ", ".join(p.name for p in found)
    raise CourseError(f"several notebooks here ({names}); say which: %check ID --notebook NAME.ipynb")


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


def unsaved_changes(ip: Any, plan: Any) -> list[str]:
    """Warnings for exercises whose latest run definition in this kernel is not in the saved file."""
    history = list(getattr(getattr(ip, "history_manager", None), "input_hist_raw", None) or [])
    if not history:
        return []
    history = history[:-1]  # the cell running the check itself
    from dl_course.notebook import read_cells

    try:  # the cells plan_check has read already, or the file again
        cells = getattr(plan, "notebook_cells", None) or read_cells(plan.path, plan.display)
        saved = {_normal(c.source) for c in cells if c.kind == "code"}
    except CourseError:
        return []
    warnings = []
    for ex in plan.exercises:
        names = "|".join(re.escape(n) for n in ex.defines)
        if not names:
            continue
        pattern = re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+(?:{names})\b", re.M)
        for number in range(len(history) - 1, 0, -1):
            source = history[number]
            if isinstance(source, str) and pattern.search(source):
                if _normal(source) not in saved:
                    warnings.append(f"The code you last ran for {ex.id} (In [{number}]) is not in the saved "
                                    f"{plan.display}: grading reads the saved file, so save the notebook "
                                    "(Ctrl+S / ⌘S) and check again if you meant to grade what you ran.")
                break
    return warnings
