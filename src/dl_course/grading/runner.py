"""Runs the judge from the CLI's process (which never imports torch) and reads its verdict.

`grade(...)` builds a job (which file is graded against which hidden suite, with which
settings), starts `python -I -m dl_course.grading.judge` outside the workspace with a
whitelisted environment, and reads exactly one JSON document back. A judge that dies, hangs
or answers garbage produces failed results that say so: never a pass.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from dl_course.course.model import Exercise, Pack
from dl_course.grading.result import ExerciseResult
from dl_course.grading.session import safe_env

PROGRESS_MARK = "\x1edl-course-progress "  # the same as plugin.PROGRESS_MARK (kept apart: no pytest here)

__all__ = ["Submission", "grade", "resolve_devices", "DEFAULT_MEMORY"]

DEFAULT_MEMORY = 6 * 1024**3
_ANSWER_CAP = 32 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    """One file to grade as one exercise."""

    exercise: Exercise
    file: Path
    display: str = ""
    """How to name the file to the learner (relative to the workspace)."""
    variant: str | None = None
    """Grade one known mistake of `file` (a copy of mistakes.py) instead of the file's own names."""


def resolve_devices(device: str) -> list[str]:
    """`auto` → cpu, plus cuda when a GPU is visible; `all` → cpu and cuda; otherwise as given."""
    if device == "auto":
        return ["cpu", "cuda"] if _cuda_visible() else ["cpu"]
    if device == "all":
        return ["cpu", "cuda"]
    return [device]


def _cuda_visible() -> bool:
    # Cheap: look for an NVIDIA driver without importing torch in this process.
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")


def _pump(stream, kept: list[bytes], on_progress: Callable[[str], None] | None) -> None:
    """Read the judge's stderr: progress lines go to the callback, the rest is kept (capped)."""
    mark = PROGRESS_MARK.encode()
    size = 0
    for line in stream:
        if line.startswith(mark):
            if on_progress is not None:
                try:
                    on_progress(json.loads(line[len(mark):]))
                except ValueError:
                    pass
        elif size < 64 * 1024:
            kept.append(line)
            size += len(line)


def _job_entry(pack: Pack, sub: Submission) -> dict:
    ex = sub.exercise
    folder = str(sub.file.resolve().parent)
    return {
        "id": ex.id, "title": ex.title, "points": ex.points, "suite": str(ex.suite), "solution": str(ex.solution),
        "mistakes": str(ex.mistakes), "file": str(sub.file.resolve()), "display_file": sub.display or sub.file.name,
        "variant": sub.variant, "defines": list(ex.defines), "forbid": list(ex.forbid),
        "time_limit_s": ex.time_limit_s, "sys_path": [folder], "learner_dirs": [folder],
        # Trusted imports in the judge: the reference's siblings (earlier exercises) and support files.
        "trusted_path": [str(ex.solution.parent), str(ex.dir)],
        "tolerance": {k: {"rtol": v.rtol, "atol": v.atol} for k, v in ex.tolerance.items()},
    }


def grade(pack: Pack, submissions: Iterable[Submission], device: str = "auto", seed: int | None = None,
          author: bool = False, python: str | None = None,
          on_progress: Callable[[str], None] | None = None) -> list[ExerciseResult]:
    """Grade submissions in one judge process; one result per submission, in order.

    `on_progress` receives a short line each time the judge starts a check or reports on a long
    one (training), for a live display.
    """
    subs = list(submissions)
    if not subs:
        return []
    seed = random.randrange(1, 10**6) if seed is None else seed
    devices = resolve_devices(device)
    job = {
        "exercises": [_job_entry(pack, s) for s in subs], "seed": seed, "devices": devices, "author": author,
        "hidden_dirs": [str(d) for d in pack.hidden_dirs], "memory_bytes": DEFAULT_MEMORY,
    }
    budget = 90 + sum(s.exercise.time_limit_s + 15 for s in subs)
    env = safe_env({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

    def failed(message: str) -> list[ExerciseResult]:
        return [ExerciseResult.failed(s.exercise.id, s.exercise.title, s.exercise.points, message, seed, devices,
                                      s.display) for s in subs]

    with tempfile.TemporaryDirectory(prefix="dl-course-") as cwd:
        proc = subprocess.Popen([python or sys.executable, "-I", "-m", "dl_course.grading.judge"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                                env=env)
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [threading.Thread(target=lambda: out.append(proc.stdout.read(_ANSWER_CAP)), daemon=True),
                   threading.Thread(target=_pump, args=(proc.stderr, err, on_progress), daemon=True)]
        for reader in readers:
            reader.start()
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return failed(f"the grader did not finish within {budget:.0f} s")
        for reader in readers:
            reader.join(timeout=5)
    raw = out[0] if out else b""
    stderr = b"".join(err)
    try:
        answer = json.loads(raw)
        results = [ExerciseResult.from_dict(r) for r in answer["results"]]
    except (ValueError, KeyError, TypeError):
        tail = stderr.decode("utf-8", "replace")[-1500:]
        return failed(f"the grader stopped without a verdict (exit status {proc.returncode})"
                      + (f":\n{tail}" if author and tail else ""))
    if len(results) != len(subs):
        return failed("the grader's verdict did not cover every exercise")
    return results
