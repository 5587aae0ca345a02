"""The verdict model: what `dl-course check --json` prints and the progress store keeps.

Plain dataclasses: no torch, no pytest. Schema (version 1), per exercise:

    exercise     str           the exercise id
    title        str
    passed       bool          every check passed
    score        float         points earned: the share of the suite's own checks that passed
                               (the gates loads, defines and api earn nothing alone); 0 for a
                               forbidden call or an untouched starter
    not_started  bool          the file is still the starter, or it passed no check and failed only
                               on NotImplementedError (score 0)
    max_score    int           the exercise's points
    diagnosis    {id, message} | null   the known mistake matched by the first failing check
    duration_s   float         wall time spent in the learner's process and the checks
    seed         int           the seed the inputs were drawn from (replay with --seed)
    devices      [str]         devices the checks ran on
    checks       [{name, title, passed, status, message, case, diagnosis}]
                 status: passed | failed | not_run | error; a failed check skips only the
                 checks that need it (message: "not run: ..." says which)
    output       str           what the learner's code printed (capped)
    error        str | null    why the exercise could not be graded at all
    file         str | null    the learner's file, relative to the workspace
    figures      [{check, title, case, kind, shape, expected, got, truncated}]
                 at most one per check that asked for one (values checks of some suites): a
                 small picture of one output on one case, for a heatmap. `case` is the largest
                 failing case, or when the check passed its largest float32 case on the CPU.
                 `expected` (the reference) and `got` (the learner; null when missing, failed or
                 shaped differently) are lists of rows of numbers rounded to 4 decimals, null
                 where not finite; kind: bool (0/1) | float; index 0 is taken along leading
                 dimensions of `shape` (the full shape) and at most 40 rows × 64 columns are kept
                 (`truncated` says some were cut). Not kept in the progress store.

Every string in a verdict may come from the learner (what it printed, an exception's message, a
traceback, a file or student folder name), so each one is cleaned of control characters (all but
newline and tab; see `dl_course.textsafe.clean`) whenever a field of a `CheckResult` or an
`ExerciseResult` is set: by `from_dict` (every verdict the judge sends is parsed there, in `check`,
the TUI, `%check`, class grading, the gradebook and Gradescope alike), by `failed`, directly, or
later (a notebook's cell and line put into a message). What is shown from a verdict is therefore
safe for a terminal; markup (Rich, HTML, Markdown) is still escaped where the text is placed into it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dl_course.textsafe import clean, clean_data

__all__ = ["CheckResult", "ExerciseResult", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


PROCESS_ENDED = "not run: the process running your code has ended"
"""How a check left after the learner's process ended (a time-out, a crash) begins."""


@dataclass
class CheckResult:
    name: str
    title: str
    passed: bool
    status: str
    message: str = ""
    case: str | None = None
    diagnosis: dict[str, str] | None = None
    line: int | None = None

    def __setattr__(self, name: str, value: Any) -> None:  # every field, at construction and after
        object.__setattr__(self, name, _CHECK_FIELDS.get(name, _as_is)(value))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CheckResult":
        return cls(name=str(d.get("name", "")), title=str(d.get("title", "")), passed=bool(d.get("passed")),
                   status=str(d.get("status", "failed")), message=str(d.get("message") or ""), case=d.get("case"),
                   diagnosis=d.get("diagnosis"), line=d.get("line"))


def _as_is(value: Any) -> Any:
    return value


def _text_or_none(value: Any) -> str | None:
    return None if value is None else clean(value)


def _diagnosis(d: Any) -> dict[str, str] | None:
    """A diagnosis `{id, message}` with clean strings (None stays None; anything not a dict is dropped)."""
    if not isinstance(d, dict):
        return None
    return {clean(k): clean(v) for k, v in d.items()}


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    passed: bool
    score: float
    max_score: int
    diagnosis: dict[str, str] | None
    duration_s: float
    seed: int | None
    devices: list[str]
    checks: list[CheckResult] = field(default_factory=list)
    output: str = ""
    error: str | None = None
    file: str | None = None
    figures: list[dict[str, Any]] = field(default_factory=list)
    not_started: bool = False

    def __setattr__(self, name: str, value: Any) -> None:  # every field, at construction and after
        object.__setattr__(self, name, _RESULT_FIELDS.get(name, _as_is)(value))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExerciseResult":
        return cls(exercise=str(d["exercise"]), title=str(d.get("title", "")), passed=bool(d.get("passed")),
                   score=float(d.get("score", 0)), max_score=int(d.get("max_score", 0)),
                   diagnosis=d.get("diagnosis"), duration_s=float(d.get("duration_s", 0.0)), seed=d.get("seed"),
                   devices=list(d.get("devices") or []),
                   checks=[CheckResult.from_dict(c) for c in d.get("checks", [])], output=str(d.get("output") or ""),
                   error=d.get("error"), file=d.get("file"),
                   figures=[f for f in d.get("figures") or [] if isinstance(f, dict)],
                   not_started=bool(d.get("not_started")))

    @property
    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.checks if c.status in ("failed", "error")), None)

    @property
    def stopped(self) -> str | None:
        """Why this code gave no answer to study, or None when it answered (right or wrong): it
        could not be graded, the grader failed, the file does not load, or its process ended (a
        time-out, a crash, a memory bomb). Such failures are no candidates for new mistakes."""
        if self.error:
            return "could not be graded"
        first = self.first_failure
        if first is None:
            return None
        if first.status == "error":
            return "the grader failed"
        if first.name == "loads":
            return "does not load"
        if any(c.status == "not_run" and c.message.startswith(PROCESS_ENDED) for c in self.checks):
            return "its process ended (a time-out or a crash)"
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def failed(cls, exercise: str, title: str, max_score: int, message: str, seed: int | None = None,
               devices: list[str] | None = None, file: str | None = None) -> "ExerciseResult":
        return cls(exercise=exercise, title=title, passed=False, score=0.0, max_score=max_score, diagnosis=None,
                   duration_s=0.0, seed=seed, devices=devices or [], error=message, file=file)


# How each field is cleaned whenever it is set (fields not named are numbers and flags).
_CHECK_FIELDS = {"name": clean, "title": clean, "status": clean, "message": clean, "case": _text_or_none,
                 "diagnosis": _diagnosis, "line": _int_or_none}
_RESULT_FIELDS = {"exercise": clean, "title": clean, "diagnosis": _diagnosis, "seed": _int_or_none,
                  "devices": lambda ds: [clean(d) for d in ds or []], "output": clean,
                  "checks": lambda cs: [c if isinstance(c, CheckResult) else CheckResult.from_dict(c) for c in cs or []], "error": _text_or_none,
                  "file": _text_or_none, "figures": lambda fs: [clean_data(f) for f in fs or [] if isinstance(f, dict)]}
