"""The terminal UI (Textual). `run(ctx, chapter=...)` opens it; importing this never imports torch."""

from __future__ import annotations

__all__ = ["run"]


def run(ctx, chapter: str | None = None, exercise: str | None = None, device: str = "auto",
        course: str | None = None) -> None:
    from dl_course.tui.app import CourseApp

    CourseApp(ctx, chapter=chapter, exercise=exercise, device=device, course=course).run()
