"""Timings for the TUI, used by bench.py: first paint in a real pseudo-terminal, and a re-check
on a warm judge (the path the TUI and `dl-course check --watch` take)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path


def first_paint(exe: str, ws: Path, repeat: int) -> float:
    """Seconds from starting `dl-course` in a pseudo-terminal until the course map is on screen."""
    import pexpect

    times = []
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    for _ in range(repeat):
        t0 = time.perf_counter()
        child = pexpect.spawn(exe, cwd=str(ws), env=env, dimensions=(30, 100), timeout=30)
        # The banner under the header is drawn in the first frame of the map.
        child.expect("Workspace")
        times.append(time.perf_counter() - t0)
        child.send("q")
        child.expect(pexpect.EOF, timeout=15)
        child.close()
    return statistics.median(times)


def warm_recheck(pack, ws: Path, exercise_id: str, repeat: int, settle_s: float = 4.0) -> float:
    """Median seconds of a check on a judge started ahead of time, as after an edit in the TUI.

    Between checks the learner edits (here: `settle_s` seconds), which is when the next judge warms.
    """
    from dl_course.grading.runner import Submission, WarmJudge

    ex = pack.exercise(exercise_id)
    path = ws / pack.chapter_of(ex).folder / ex.file
    warm = WarmJudge().start()
    times = []
    try:
        for _ in range(repeat):
            time.sleep(settle_s)
            t0 = time.perf_counter()
            result = warm.grade(pack, [Submission(ex, path, path.name)], device="cpu")[0]
            times.append(time.perf_counter() - t0)
            if not result.passed:
                raise SystemExit(f"the reference of {exercise_id} did not pass on the warm judge: {result.error}")
    finally:
        warm.close()
    return statistics.median(times)
