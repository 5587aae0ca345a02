"""Grade the mutants of each exercise's reference with its hidden suite, under the same judge and
isolation as a learner's file, and tell which were caught, by what, and which survived.

A surviving mutant is either a gap in the suite (wrong code it would pass) or an equivalent
mutant (the same function written otherwise), which the exercise must declare with a reason in
`exercise.toml` (`[[equivalent_mutants]]`). Verdicts are cached per mutant, keyed by the
reference, the suite, the exercise's settings and the grading engine, so a re-run after adding
declarations, or after changing another exercise, costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from dl_course.course import Exercise, Pack
from dl_course.mutation.operators import Mutant, mutants

__all__ = ["MutantVerdict", "MutationReport", "run_mutants", "CHUNK"]

CHUNK = 8
"""Mutants graded per judge run: large enough to spread a judge's start, small enough to keep
every worker busy and to stop near the time budget."""


@dataclass
class MutantVerdict:
    mutant: Mutant
    status: str
    """caught, survived, equivalent (survived and declared), declared-but-caught, or not run."""
    check: str = ""
    """The first check that failed (empty when it passed or did not run)."""
    diagnosis: str = ""
    """The known mistake it was named as, if any."""
    message: str = ""
    """The first line of what the learner would have been told."""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["mutant"] = {k: v for k, v in asdict(self.mutant).items() if k != "source"}
        return out


@dataclass
class MutationReport:
    exercise: str
    verdicts: list[MutantVerdict] = field(default_factory=list)
    seconds: float = 0.0
    cached: int = 0
    stale: list[str] = field(default_factory=list)
    """Declared equivalent mutants that no longer exist (the reference changed)."""

    def count(self, *statuses: str) -> int:
        return sum(1 for v in self.verdicts if v.status in statuses)

    @property
    def score(self) -> float | None:
        """Caught over mutants that are not declared equivalent (None when none ran)."""
        judged = self.count("caught", "survived", "declared-but-caught")
        return self.count("caught", "declared-but-caught") / judged if judged else None

    @property
    def named(self) -> int:
        return sum(1 for v in self.verdicts if v.status in ("caught", "declared-but-caught") and v.diagnosis)

    @property
    def problems(self) -> list[str]:
        out = [f"{v.mutant.id} survives ({v.mutant.description}): add a check or a case that catches it, or "
               "declare it in [[equivalent_mutants]] with the reason it computes the same function"
               for v in self.verdicts if v.status == "survived"]
        out += [f"{v.mutant.id} is declared equivalent but is caught ({v.check}: {v.message}): remove the "
                "declaration" for v in self.verdicts if v.status == "declared-but-caught"]
        out += [f"{mutant} is declared equivalent but no such mutant exists any more: remove the declaration "
                "(line numbers move when the reference changes)" for mutant in self.stale]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems and self.count("not run") == 0

    def to_dict(self) -> dict:
        return {"exercise": self.exercise, "score": self.score, "seconds": round(self.seconds, 1),
                "cached": self.cached, "counts": {s: self.count(s) for s in
                                                 ("caught", "survived", "equivalent", "declared-but-caught", "not run")},
                "problems": self.problems, "mutants": [v.to_dict() for v in self.verdicts]}


def _engine_hash() -> str:
    """What the grading engine and the mutation operators are, so a changed engine re-runs mutants."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in [*sorted((root / "grading").glob("*.py")), root / "mutation" / "operators.py"]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _exercise_key(pack: Pack, ex: Exercise, seed: int, device: str) -> str:
    digest = hashlib.sha256(_engine_hash().encode())
    digest.update(json.dumps([ex.id, ex.file, ex.defines, ex.forbid, ex.uses, ex.time_limit_s, seed, device,
                              {k: [t.rtol, t.atol] for k, t in sorted(ex.tolerance.items())}]).encode())
    files = [ex.solution, *sorted(p for p in ex.suite_dir.rglob("*.py"))]
    files += [ex.support_file(name) for name in ex.support] + [pack.exercises[u].solution for u in ex.uses]
    files += pack.shared_files
    for path in files:
        digest.update(str(path.name).encode() + path.read_bytes())
    return digest.hexdigest()[:20]


def _cache_file(pack: Pack, ex: Exercise, seed: int, device: str) -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("dl-course") / "mutants" / f"{ex.id}-{_exercise_key(pack, ex, seed, device)}.json"


def _code_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:20]


def _outcome(result) -> dict:
    """What a graded mutant tells: passed, or the first failing check with its message and diagnosis."""
    if result.passed:
        return {"passed": True}
    first = result.first_failure
    diagnosis = (result.diagnosis or {}).get("id") or ""
    if first is None:
        return {"passed": False, "check": "error", "diagnosis": diagnosis,
                "message": (result.error or "no checks ran").splitlines()[0][:200]}
    message = (first.message or "").strip().splitlines()
    return {"passed": False, "check": first.name, "diagnosis": (first.diagnosis or {}).get("id") or diagnosis,
            "message": (message[0] if message else "")[:200]}


def run_mutants(pack: Pack, exercises: list[Exercise], device: str = "cpu", seed: int = 1,
                budget_s: float | None = None, workers: int = 2, use_cache: bool = True,
                operators: set[str] | None = None,
                on_progress: Callable[[str], None] | None = None) -> list[MutationReport]:
    """One report per exercise. `budget_s` bounds the grading time spent on one exercise (mutants
    left when it runs out are reported as not run); `workers` judges grade at once."""
    from dl_course.author import add_neighbours
    from dl_course.grading.runner import Submission, grade

    reports = []
    for ex in exercises:
        started = time.monotonic()
        report = MutationReport(ex.id)
        made = mutants(ex.solution.read_text(encoding="utf-8"), operators)
        ids = {m.id for m in made}
        report.stale = sorted(m for m in ex.equivalent_mutants if m not in ids)
        cache_path = _cache_file(pack, ex, seed, device)
        cache: dict[str, dict] = {}
        if use_cache and cache_path.is_file():
            try:
                cache = json.loads(cache_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                cache = {}
        todo = [m for m in made if _code_key(m.source) not in cache]
        report.cached = len(made) - len(todo)
        with tempfile.TemporaryDirectory(prefix="dl-course-mutants-") as tmp:
            subs = {}
            for i, m in enumerate(todo):
                folder = Path(tmp) / f"m{i}"
                folder.mkdir()
                (folder / ex.file).write_text(m.source, encoding="utf-8")
                add_neighbours(pack, ex, folder)
                subs[m.id] = Submission(ex, folder / ex.file, f"mutant {m.id}")
            chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
            done = [0]

            def grade_chunk(chunk: list[Mutant]) -> None:
                if budget_s is not None and time.monotonic() - started > budget_s:
                    return
                results = grade(pack, [subs[m.id] for m in chunk], device=device, seed=seed, threads=1, variants=False)
                for m, result in zip(chunk, results):
                    cache[_code_key(m.source)] = _outcome(result)
                done[0] += len(chunk)
                if on_progress is not None:
                    on_progress(f"{ex.id}: {done[0] + report.cached}/{len(made)} mutants graded")

            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                list(pool.map(grade_chunk, chunks))
        if use_cache:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            for old in cache_path.parent.glob(f"{ex.id}-*.json"):  # verdicts on an older suite or engine
                if old != cache_path:
                    old.unlink(missing_ok=True)
            cache_path.write_text(json.dumps(cache, indent=0), encoding="utf-8")
        for m in made:
            outcome = cache.get(_code_key(m.source))
            declared = m.id in ex.equivalent_mutants
            if outcome is None:
                report.verdicts.append(MutantVerdict(m, "not run"))
            elif outcome["passed"]:
                report.verdicts.append(MutantVerdict(m, "equivalent" if declared else "survived",
                                                     message=ex.equivalent_mutants.get(m.id, "")))
            else:
                report.verdicts.append(MutantVerdict(m, "declared-but-caught" if declared else "caught",
                                                     outcome["check"], outcome["diagnosis"], outcome["message"]))
        report.seconds = time.monotonic() - started
        reports.append(report)
    return reports


def diff(reference: str, mutant: Mutant) -> str:
    """The mutant as a unified diff of the reference (one hunk, no context beyond its line)."""
    import difflib

    lines = difflib.unified_diff(reference.splitlines(), mutant.source.splitlines(), "reference", mutant.id,
                                 lineterm="", n=0)
    return "\n".join(line for line in lines if not line.startswith(("---", "+++")))
