"""Runs the judge from the CLI's process (which never imports torch) and reads its verdict.

`grade(...)` builds a job (which file is graded against which hidden suite, with which
settings), starts `python -I -m dl_course.grading.judge` outside the workspace with a
whitelisted environment, and reads exactly one JSON document back. A judge that dies, hangs
or answers garbage produces failed results that say so: never a pass.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from dl_course.course.model import Exercise, Pack
from dl_course.grading.result import ExerciseResult
from dl_course.grading.session import WALL_FACTOR, safe_env

PROGRESS_MARK = "\x1edl-course-progress "  # the same as plugin.PROGRESS_MARK (kept apart: no pytest here)

__all__ = ["Submission", "grade", "Judge", "WarmJudge", "resolve_devices", "DEFAULT_MEMORY"]

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
    hidden: tuple[str, ...] = ()
    """More folders this submission's code may not read (e.g. the other students' files in a class);
    the file's own folder stays readable even when it lies inside one of them."""


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
    try:
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
    except ValueError:  # the judge was closed (Ctrl-C, a time-out) while this thread was reading
        pass


def _digest(path: Path) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _job_entry(pack: Pack, sub: Submission) -> dict:
    ex = sub.exercise
    folder = str(sub.file.resolve().parent)
    return {
        # The bytes this run grades against, as read here before the judge starts: the judge
        # hashes what it reads and refuses to grade against anything else (see judge.py).
        "digests": {"suite": _digest(ex.suite), "solution": _digest(ex.solution), "mistakes": _digest(ex.mistakes)},
        "id": ex.id, "title": ex.title, "points": ex.points, "suite": str(ex.suite), "solution": str(ex.solution),
        "starter": str(ex.starter), "mistakes": str(ex.mistakes), "file": str(sub.file.resolve()), "display_file": sub.display or sub.file.name,
        "variant": sub.variant, "defines": list(ex.defines), "forbid": list(ex.forbid),
        "time_limit_s": ex.time_limit_s, "sys_path": [folder], "learner_dirs": [folder],
        "hidden_dirs": [str(d) for d in sub.hidden],
        "support": list(ex.support),
        # With more hidden folders (a class), the file's own folder stays readable even inside one.
        "allow_dirs": [folder] if sub.hidden else [],
        # Trusted imports in the judge: the reference's siblings (earlier exercises), support files,
        # and the suites' shared helpers (`from _shared import ...`, in grader/_shared/).
        "trusted_path": [str(ex.solution.parent), str(ex.dir),
                         *sorted({str(p.parent) for p in ex.support_files} - {str(ex.dir)}), str(pack.root / "grader")],
        "tolerance": {k: {"rtol": v.rtol, "atol": v.atol} for k, v in ex.tolerance.items()},
    }


_live: "weakref.WeakSet[Judge]" = weakref.WeakSet()
"""Judges of this process not closed yet: stopped when it exits (see `close_all`)."""


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc (Linux); empty elsewhere."""
    tree: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return tree
    for name in names:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(name))
    return tree


def _kill_tree(pid: int) -> None:
    """SIGKILL `pid` and every process below it (a judge, its learner zygote and sessions, which
    run in sessions of their own, so no process group reaches them all)."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(tree.get(found[-1], []))
    for p in found:
        try:
            os.kill(p, 9)
        except OSError:
            pass


def close_all() -> None:
    """Stop every judge of this process at once, and what each started: on exit (atexit) and on
    SIGINT/SIGTERM, so Ctrl-C never leaves a learner's `while True: pass` running. A judge that has
    already answered is left to finish tearing itself down (it stops its own learner processes)."""
    for judge in list(_live):
        _live.discard(judge)
        if judge.answered:
            continue
        if not judge.used:  # a spare, still warming up: it tidies up once its stdin closes
            try:
                judge.proc.stdin.close()
            except OSError:
                pass
            continue
        _kill_tree(judge.proc.pid)
    if sys.platform.startswith("linux"):  # orphans this process adopted (see Judge: child subreaper)
        for pid in _children().get(os.getpid(), []):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"dl_course.grading." not in f.read():
                        continue
            except OSError:
                continue
            _kill_tree(pid)
            try:
                os.waitpid(pid, os.WNOHANG)
            except OSError:
                pass


def _adopt_orphans() -> None:
    """Make this process the one that adopts its judges' orphans (Linux's child subreaper), so a
    learner session whose judge died is still found and stopped by `close_all`."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass


class Judge:
    """A judge process started ahead of its job: it imports torch and forks its learner zygote
    while waiting, so the check it is later given starts warm.

    One judge grades one job, then exits: every check gets a fresh judge and fresh learner
    processes, so nothing leaks from one check to the next. `WarmJudge` keeps one ready.
    """

    def __init__(self, python: str | None = None, threads: int | None = None):
        self._cwd = tempfile.TemporaryDirectory(prefix="dl-course-")
        extra = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        if threads:  # e.g. 1 when several judges share the cores (a class): no oversubscription
            extra.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        env = safe_env(extra)
        self.proc = subprocess.Popen([python or sys.executable, "-I", "-m", "dl_course.grading.judge"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=self._cwd.name, env=env)
        if not _live:
            _adopt_orphans()
        _live.add(self)
        self.answered = False
        self.on_progress: Callable[[Any], None] | None = None
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._readers = [threading.Thread(target=lambda: self._out.append(self.proc.stdout.read(_ANSWER_CAP)),
                                          daemon=True),
                         threading.Thread(target=_pump, args=(self.proc.stderr, self._err, self._progress),
                                          daemon=True)]
        for reader in self._readers:
            reader.start()
        self.used = False

    def _progress(self, event: Any) -> None:
        if self.on_progress is not None:
            self.on_progress(event)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: dict, budget: float) -> tuple[bytes, bytes, int | None]:
        """Send the job; return (stdout, stderr, exit status). Raises TimeoutError past `budget`."""
        if self.used:
            raise RuntimeError("a judge grades one job")
        self.used = True
        try:
            self.proc.stdin.write(json.dumps(job).encode())
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        # The verdict is complete when the judge closes its stdout; it then stops its zygote and
        # exits at once (without unloading torch). Its exit status is part of the verdict: a judge
        # killed after something was written to its stdout did not finish.
        stdout_reader, stderr_reader = self._readers
        stdout_reader.join(timeout=budget)
        if stdout_reader.is_alive():
            self.close()
            raise TimeoutError(f"the grader did not finish within {budget:.0f} s")
        raw = self._out[0] if self._out else b""
        self.answered = bool(raw)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.close()
        stderr_reader.join(timeout=1)
        return raw, b"".join(self._err), self.proc.returncode

    def close(self) -> None:
        """Stop the judge if it is still running. One that never got a job is told so (its stdin
        closes) and tidies up after itself; one that does not stop within a few seconds is killed."""
        if not self.used and self.proc.poll() is None:
            self.used = True
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        _live.discard(self)
        if self.proc.poll() is None:
            _kill_tree(self.proc.pid)
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        self._cwd.cleanup()


atexit.register(close_all)


class WarmJudge:
    """Keeps one judge started and warm, for the TUI and `check --watch`.

    `grade()` hands the waiting judge a job (starting one if there is none) and then starts the
    next, so the learner's following check is warm too. `close()` stops the spare.
    """

    def __init__(self, python: str | None = None):
        self.python = python
        self._lock = threading.Lock()
        self._spare: Judge | None = None
        self._closed = False

    def start(self) -> "WarmJudge":
        with self._lock:
            if self._spare is None and not self._closed:
                self._spare = Judge(self.python)
        return self

    def take(self) -> Judge:
        """The waiting judge (or a new one). Call `start()` once the check is done to warm the next
        one: starting it during the check would slow the check down on a small machine."""
        with self._lock:
            judge, self._spare = self._spare, None
        if judge is None or not judge.alive:
            if judge is not None:
                judge.close()
            judge = Judge(self.python)
        return judge

    def grade(self, pack: Pack, submissions: Iterable[Submission], **options: Any) -> list[ExerciseResult]:
        """`grade` on the warm judge, then warm the next one."""
        try:
            return grade(pack, submissions, judge=self.take(), **options)
        finally:
            self.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            judge, self._spare = self._spare, None
        if judge is not None:
            judge.close()


def grade(pack: Pack, submissions: Iterable[Submission], device: str = "auto", seed: int | None = None,
          author: bool = False, python: str | None = None,
          on_progress: Callable[[str], None] | None = None,
          on_metric: Callable[[dict], None] | None = None,
          judge: Judge | None = None, threads: int | None = None, variants: bool = True) -> list[ExerciseResult]:
    """Grade submissions in one judge process; one result per submission, in order.

    `on_progress` receives a short line each time the judge starts a check or reports on a long
    one (training), for a live display; `on_metric` receives the structured form of training
    reports (a dict with `text`, `step`, `steps`, `loss`…). `judge` is a judge started ahead of
    time (see `WarmJudge`); without one, a new judge is started, with `threads` torch threads
    per process when given (its own judge and learner processes). `variants=False` skips naming
    failures by variants of the reference (grading.variants), as `author mutants` does.
    """
    subs = list(submissions)
    if not subs:
        if judge is not None:
            judge.close()
        return []
    seed = random.randrange(1, 10**6) if seed is None else seed
    devices = resolve_devices(device)
    # Only the judge read this (on its stdin): a verdict without it did not come from the judge.
    nonce = secrets.token_hex(16)
    job = {
        "exercises": [_job_entry(pack, s) for s in subs], "seed": seed, "devices": devices, "author": author,
        "nonce": nonce, "variants": variants,
        "hidden_dirs": [str(d) for d in pack.hidden_dirs], "memory_bytes": DEFAULT_MEMORY,
    }
    budget = 90 + sum(s.exercise.time_limit_s * WALL_FACTOR + 15 for s in subs)

    def failed(message: str) -> list[ExerciseResult]:
        return [ExerciseResult.failed(s.exercise.id, s.exercise.title, s.exercise.points, message, seed, devices,
                                      s.display) for s in subs]

    def progress(event: Any) -> None:
        if isinstance(event, dict):
            if on_metric is not None:
                on_metric(event)
            event = str(event.get("text", ""))
        if on_progress is not None and isinstance(event, str):
            on_progress(event)

    judge = judge or Judge(python, threads)
    judge.on_progress = progress
    try:
        raw, stderr, status = judge.run(job, budget)
    except TimeoutError as e:
        return failed(str(e))
    except BaseException:  # Ctrl-C while grading: the judge and its learner processes stop too
        judge.close()
        raise
    try:
        if status != 0:  # only a judge that finished answers, whatever its stdout holds
            raise ValueError("the judge did not exit normally")
        answer = json.loads(raw)
        if not isinstance(answer, dict) or answer.get("nonce") != nonce:
            raise ValueError("not the judge's verdict")
        results = [ExerciseResult.from_dict(r) for r in answer["results"]]
    except (ValueError, KeyError, TypeError):
        tail = stderr.decode("utf-8", "replace")[-1500:]
        return failed(f"the grader stopped without a verdict (exit status {status})"
                      + (f":\n{tail}" if author and tail else ""))
    if len(results) != len(subs):
        return failed("the grader's verdict did not cover every exercise")
    return results
