"""What the TUI remembers between runs: where the learner was reading, the theme, and the
whole of each exercise's last check (so coming back to an exercise shows its "What went wrong"
box and its pictures, which the progress store does not keep).

Kept as small JSON files in the workspace's `.dl-course/` folder (nothing is kept when there
is no workspace). A damaged file is ignored rather than fatal: it holds nothing of value.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["UiState"]


@dataclass
class UiState:
    path: Path | None
    """The JSON file, or None when there is no workspace to keep it in."""
    reading: dict[str, float] = field(default_factory=dict)
    """Per chapter id, how far down the lesson the learner had scrolled (in lines)."""
    theme: str = "textual-dark"
    """The Textual theme last chosen."""
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per exercise id, its last check in the TUI: `{"code_hash": …, "result": ExerciseResult.to_dict()}`."""

    @classmethod
    def load(cls, state_dir: Path | None) -> "UiState":
        if state_dir is None:
            return cls(None)
        path = state_dir / "tui.json"
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        reading = {str(k): float(v) for k, v in (data.get("reading") or {}).items()
                   if isinstance(v, (int, float))}
        theme = data.get("theme") if isinstance(data.get("theme"), str) else "textual-dark"
        try:
            results: Any = json.loads((state_dir / RESULTS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            results = {}
        if not isinstance(results, dict):
            results = {}
        results = {str(k): v for k, v in results.items()
                   if isinstance(v, dict) and isinstance(v.get("code_hash"), str) and isinstance(v.get("result"), dict)}
        return cls(path, reading, theme, results)

    def save(self) -> None:
        if self.path is not None:
            _write(self.path, {"reading": self.reading, "theme": self.theme})

    def remember_result(self, exercise: str, code_hash: str, result: dict[str, Any]) -> None:
        """Keep an exercise's whole last check, for the file whose contents hash to `code_hash`."""
        self.results[exercise] = {"code_hash": code_hash, "result": result}
        if self.path is not None:
            _write(self.path.with_name(RESULTS), self.results)


RESULTS = "tui-results.json"


def _write(path: Path, data: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError):
        pass  # losing a reading position or a picture is not worth interrupting the learner for
