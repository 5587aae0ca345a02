"""What the TUI remembers between runs: where the learner was reading, and the theme.

Kept as a small JSON file in the workspace's `.dl-course/` folder (nothing is kept when there
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
        return cls(path, reading, theme)

    def save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"reading": self.reading, "theme": self.theme}, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # losing a reading position is not worth interrupting the learner for
