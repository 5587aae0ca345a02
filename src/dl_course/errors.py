"""Errors the program reports to a person, each with a message that says what to do.

    CourseError            anything a learner or instructor can fix; the CLI prints it and exits 2
     ├── PackError         a course pack is malformed (names the file and the field)
     ├── WorkspaceError    the learner's workspace or progress store is unusable
     ├── NotebookError     a notebook cannot be graded (not JSON, not nbformat, tags, syntax)
     └── GraderError       the grader itself could not run
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CourseError", "PackError", "WorkspaceError", "NotebookError", "GraderError"]


class CourseError(Exception):
    """A problem a person can fix; the message says how."""


class PackError(CourseError):
    """A course pack file is malformed."""

    def __init__(self, path: Path | str, message: str, field: str | None = None):
        self.path = Path(path)
        self.field = field
        where = f"{path}: '{field}'" if field else f"{path}"
        super().__init__(f"{where}: {message}")


class WorkspaceError(CourseError):
    """The learner's workspace cannot be used as it is."""


class NotebookError(CourseError):
    """A notebook cannot be read or graded as it is (the message names the file, and the cell)."""


class GraderError(CourseError):
    """The grader could not run (not a verdict on the learner's code)."""
