"""The pytest plugin that turns hidden suites into verdicts.

For each exercise's suite it adds the engine's own checks around the author's tests
(`loads` and `defines` first, `api` last), opens a fresh learner session, gives the tests a
`grade` fixture, and records every check's result. A check that fails skips only the checks
that need it: every check needs `loads` and `defines`, and a suite's check needs more only where
it says so with `@pytest.mark.needs("values", ...)`. When the learner's process has ended (a
time-out, a crash) the checks left are "not run". Points follow what works: see `score`. Only messages written for the learner leave this plugin: never
the suite's source or its tracebacks (authors get those with `author validate`).

Besides the verdict, it reports progress on stderr, one line per event: PROGRESS_MARK followed
by JSON, either a string (a check starts, a model has learned) or, while a model trains, a dict
(see `Grade.learns`) with the exercise's id added. Each check may also leave one figure (see
`Grade.compare`), collected in the exercise's "figures".
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dl_course.course.model import Tolerance
from dl_course.grading.harness import CheckFailed, Grade, GraderBug
from dl_course.grading.mistakes import namespace_for, registered
from dl_course.grading.ops import LearnerFault
from dl_course.grading.result import PROCESS_ENDED
from dl_course.grading.session import SessionDied, Zygote
from dl_course.grading.targets import LocalTarget, RemoteTarget, load_module, same_bytes
from dl_course.grading.variants import variant_targets

__all__ = ["JudgePlugin", "PROGRESS_MARK"]

PROGRESS_MARK = "\x1edl-course-progress "


@dataclass
class ExerciseRun:
    """The state of one exercise while its suite runs."""

    job: dict[str, Any]
    checks: list[dict[str, Any]] = field(default_factory=list)
    grade: Grade | None = None
    learner: RemoteTarget | None = None
    failed: bool = False
    started: float = field(default_factory=time.monotonic)
    output: str = ""
    error: str | None = None
    finished: bool = False
    figures: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    """Each check's status so far, by name (passed, failed, error, not_run)."""
    unwritten: bool = False
    """A check failed on NotImplementedError: the checks after it are not run (they would say the same)."""


class EngineItem(pytest.Item):
    """A check the engine adds to every exercise (loads, defines, api)."""

    def __init__(self, *, check, title, run_fn, **kwargs):
        super().__init__(**kwargs)
        self.check, self.title, self.run_fn = check, title, run_fn

    def runtest(self) -> None:
        self.run_fn()

    def reportinfo(self):
        return self.path, None, self.name


ENGINE_CHECKS = ("loads", "defines", "api")


def score(points: float, checks: list[dict[str, Any]], passed: bool, not_started: bool) -> float:
    """Points for what works: the share of the suite's own checks that passed. The engine's
    gates (`loads`, `defines`, `api`) earn nothing by themselves; an untouched starter scores 0;
    code that calls what the exercise forbids scores 0 (it skipped the exercise)."""
    if passed:
        return points
    if not_started or any(c["name"] == "api" and c["status"] == "failed" for c in checks):
        return 0.0
    counted = [c for c in checks if c["name"] not in ENGINE_CHECKS]
    if not counted:
        return 0.0
    return round(points * sum(c["passed"] for c in counted) / len(counted), 2)


def _untouched(job: dict[str, Any]) -> bool:
    """Whether the learner's file is still the exercise's starter (blank lines and trailing spaces aside)."""
    def text(path: Any) -> str | None:
        try:
            with open(path, "rb") as f:
                data = f.read(1024 * 1024)
        except (OSError, TypeError):
            return None
        return "\n".join(line.rstrip() for line in data.decode("utf-8", "replace").splitlines() if line.strip())

    starter = text(job.get("starter"))
    return starter is not None and starter == text(job.get("file"))


_ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_TOOLING = (os.sep + "_pytest" + os.sep, os.sep + "pluggy" + os.sep)


def _author_detail(kind: type, exc: BaseException, tb: Any) -> str:
    """For an author: what the pack's own code (a reference, a known mistake, a suite) raised and
    where, in a line or two, e.g. "the reference failed on size=1, on cpu: raised
    NotImplementedError / File .../solutions/chapter09/my_ex.py, line 12". Only when the error
    comes from the engine itself (a bug to report) is the whole traceback given."""
    if kind.__name__ == "GraderBug":  # the harness's own account of what the pack's code did
        return str(exc)
    frames = traceback.extract_tb(tb)
    own = [f for f in frames if not f.filename.startswith(_ENGINE) and not any(t in f.filename for t in _TOOLING)]
    if not own:
        return ("the grader itself failed on this check; please report it:\n"
                + "".join(traceback.format_exception(kind, exc, tb))[-6000:])
    where = own[-1]
    text = f"{kind.__name__}: {exc}" if str(exc) else kind.__name__
    return f"the hidden suite raised {text} at {where.filename}, line {where.lineno}"


class JudgePlugin:
    def __init__(self, job: dict[str, Any], zygote: Zygote):
        self.job = job
        self.zygote = zygote
        self.runs: dict[int, ExerciseRun] = {}
        self.by_suite: dict[Path, ExerciseRun] = {}
        self._modules: dict[tuple[str, str], Any] = {}
        self._sources: dict[str, str] = {}
        # Trusted pack code (references, suites, mistakes) may import the references of earlier
        # exercises and the support modules; only the judge sees these folders.
        for entry in job["exercises"]:
            for folder in entry.get("trusted_path", []):
                if folder not in sys.path:
                    sys.path.insert(0, folder)
        for i, entry in enumerate(job["exercises"]):
            run = ExerciseRun(entry)
            self.runs[i] = run
            self.by_suite[Path(entry["suite"]).resolve()] = run

    # -- collection -------------------------------------------------------------------------
    def pytest_configure(self, config) -> None:
        config.addinivalue_line("markers", "needs(*checks): run this check only when these checks passed")

    def _run_of(self, item: pytest.Item) -> ExerciseRun | None:
        return self.by_suite.get(Path(item.path).resolve())

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            run = self.by_suite.get(Path(str(report.fspath)).resolve())
            if run is not None:
                run.error = "the hidden suite could not be loaded (a bug in the course pack)"
                if self.job.get("author"):
                    run.error += f":\n{report.longreprtext}"

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        ordered: list[pytest.Item] = []
        for run in self.runs.values():
            mine = [i for i in items if self._run_of(i) is run]
            if not mine:
                if run.error is None:
                    run.error = "the hidden suite has no checks (a bug in the course pack)"
                continue
            parent = mine[0].parent
            head = [
                EngineItem.from_parent(parent, name="loads", check="loads", title="Your file imports cleanly",
                                       run_fn=lambda r=run: self._loads(r)),
                EngineItem.from_parent(parent, name="defines", check="defines",
                                       title="It defines " + ", ".join(run.job["defines"]),
                                       run_fn=lambda r=run: self._defines(r)),
            ]
            tail = []
            if run.job.get("forbid"):
                tail.append(EngineItem.from_parent(parent, name="api", check="api",
                                                   title="It uses only what the exercise allows",
                                                   run_fn=lambda r=run: self._api(r)))
            ordered += head + mine + tail
        items[:] = ordered

    # -- the engine's own checks ------------------------------------------------------------
    def _loads(self, run: ExerciseRun) -> None:
        job = run.job
        run.started = time.monotonic()  # this exercise's own time, not the judge's since it began
        config = {
            "file": job["file"], "defines": job["defines"], "forbid": job.get("forbid", []),
            "variant": job.get("variant"),
            "hidden_dirs": list(self.job.get("hidden_dirs", [])) + list(job.get("hidden_dirs", [])),
            "sys_path": job.get("sys_path", []), "learner_dirs": job.get("learner_dirs", []),
            "allow_dirs": job.get("allow_dirs", []),
            "memory_bytes": self.job.get("memory_bytes"),
            "gpu": "cuda" in self.job.get("devices", ["cpu"]),
        }
        if not self.zygote.alive:
            # An earlier submission took the zygote down (e.g. killed it through ctypes): a fresh
            # one, so this exercise and those after it still get a fair verdict.
            self.zygote.close()
            self.zygote = Zygote()
        session = self.zygote.open(config, job["time_limit_s"])
        run.learner = RemoteTarget(session)
        reference = self._module(job["solution"], "reference", job["id"])
        mistakes = []
        if job.get("mistakes") and Path(job["mistakes"]).is_file():
            module = self._module(job["mistakes"], "mistakes", job["id"])
            mistakes = [(m, LocalTarget(namespace_for(module, m.id), f"mistake {m.id}")) for m in registered(module)]
        tolerance = {k: Tolerance(**v) for k, v in job["tolerance"].items()}
        source = self._sources.get(job["solution"])
        variants = (lambda source=source, name=job["solution"]: variant_targets(source, name)) \
            if source and self.job.get("variants", True) else None
        run.grade = Grade(run.learner, LocalTarget(dict(vars(reference)), "the reference"), mistakes, tolerance,
                          seed=int(self.job["seed"]), devices=tuple(self.job.get("devices", ["cpu"])),
                          progress=lambda message, exercise=job["id"]: self._progress(exercise, message),
                          variants=variants)
        try:
            kinds = run.learner.answer()
        except LearnerFault as fault:
            report = fault.report
            file = job.get("display_file", "your file")
            if report.get("type") in ("SyntaxError", "IndentationError", "TabError"):
                # Python's message ends with "(file.py, line N)": the location is said once, first.
                message = re.sub(r"\s*\([^()]*, line \d+\)$", "", str(report.get("message", "")))
                raise CheckFailed(f"{file}, line {report.get('line')}: {report.get('type')}: {message}",
                                  fault=report) from None
            raise CheckFailed(f"importing {file} raised {report.get('type')}: {report.get('message')}\n"
                              f"{report.get('traceback') or ''}".rstrip(), fault=report) from None
        except SessionDied as died:
            raise CheckFailed(f"while importing your file: {died}") from None
        run.kinds = kinds if isinstance(kinds, dict) else {}

    def _module(self, path: str, role: str, exercise_id: str, digest: str | None = None) -> Any:
        """Trusted pack code (a reference, a mistakes file), imported once per judge run from
        bytes read once: with `digest`, only if they are the bytes the CLI read (see judge.py)."""
        key = (role, path)
        if key not in self._modules:
            source = Path(path).read_bytes()
            same_bytes(source, digest, role, exercise_id)
            if role == "reference":
                # Read with the module, before any learner code runs: the variants of the reference
                # (grading.variants) are made from this text, never from the file read later.
                self._sources[path] = source.decode("utf-8")
            self._modules[key] = load_module(Path(path), f"_dl_course_{role}_{exercise_id}", source)
        return self._modules[key]

    def _defines(self, run: ExerciseRun) -> None:
        expected = run.grade.reference.kinds(run.job["defines"])
        got = getattr(run, "kinds", {})
        words = {"module_class": "a class (a subclass of nn.Module)", "class": "a class", "function": "a function",
                 "other": "something that cannot be called", "missing": "missing"}
        for name, kind in expected.items():
            mine = got.get(name, "missing")
            if mine == "missing":
                raise CheckFailed(f"'{name}' is not defined in {run.job.get('display_file', 'your file')}; "
                                  f"the exercise asks for {words[kind]} called '{name}'")
            if mine != kind:
                raise CheckFailed(f"'{name}' should be {words[kind]}, but it is {words.get(mine, mine)}")

    def _api(self, run: ExerciseRun) -> None:
        from dl_course.grading.static import findings

        used = dict(run.learner.forbidden) if run.learner else {}
        if used:
            calls = "; ".join(f"{name}" + (f" ({where} of your file)" if where else "") for name, where in used.items())
            raise CheckFailed(f"your code calls {calls}, which this exercise forbids: build it from basic tensor "
                              "operations instead")
        # What the judge reads in the source itself (the run-time watch above lives in the learner's
        # process, which can switch it off).
        seen = findings(run.job["file"], run.job.get("forbid", []), run.job.get("support", []))
        if run.job.get("variant"):  # a known mistake (author validate) imports its decorator from dl_course
            seen.pop("dl_course (the grader's own runtime)", None)
        if seen:
            uses = "; ".join(f"{name} ({where})" for name, where in seen.items())
            raise CheckFailed(f"your code uses {uses}, which this exercise does not allow: build it from basic "
                              "tensor operations instead")

    # -- the fixture ------------------------------------------------------------------------
    @pytest.fixture
    def grade(self, request) -> Grade:
        run = self._run_of(request.node)
        if run is None or run.grade is None:
            raise GraderBug("no learner session for this suite")
        return run.grade

    # -- running and recording --------------------------------------------------------------
    def pytest_runtest_setup(self, item) -> None:
        run = self._run_of(item)
        if run is None:
            return
        check = self._check(item)
        why = self._blocked(run, check["name"], item)
        if why:
            pytest.skip(why)
        self.emit(f"{run.job['id']}: {check['title']}")

    @staticmethod
    def _blocked(run: ExerciseRun, name: str, item) -> str | None:
        """Why this check cannot run (a check it needs did not pass, the learner's process ended), or None."""
        if name == "loads":
            return None
        needs = ["loads"] if name in ("defines", "api") else ["loads", "defines"]
        for mark in item.iter_markers("needs"):
            needs += [str(n) for n in mark.args]
        for need in needs:
            status = run.status.get(need)
            if status is not None and status != "passed":
                return f"not run: it needs the check '{need}', which did not pass"
        if run.unwritten:
            return "not run: your code is not written yet (it raised NotImplementedError)"
        session = run.learner.session if run.learner is not None else None
        if session is not None and session.dead:
            return f"{PROCESS_ENDED} (see the failure above)"
        return None

    def emit(self, message: str | dict[str, Any]) -> None:
        """Tell the CLI what is going on (a line on the judge's stderr), for its progress display."""
        try:
            os.write(2, (PROGRESS_MARK + json.dumps(message) + "\n").encode())
        except (OSError, TypeError, ValueError):
            pass

    def _progress(self, exercise: str, message: str | dict[str, Any]) -> None:
        """A report from the `grade` fixture: text gets the exercise's name in front; a training dict
        also gets it as "exercise" (the runner splits it into on_progress(text) and on_metric(dict))."""
        if not isinstance(message, dict):
            self.emit(f"{exercise}: {message}")
            return
        event = {**message, "exercise": exercise, "text": f"{exercise}: {message.get('text', '')}"}
        self.emit(event)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        run = self._run_of(item)
        if run is None:
            return
        recorded = call.when == "call" or (call.when == "setup" and (report.skipped or report.failed))
        if not recorded:
            return
        check = self._check(item)
        if run.grade is not None:
            kept = run.grade.take_figures()
            if kept and not report.skipped:
                # One picture per check: the last comparison's (the failing one, when one failed).
                run.figures.append({"check": check["name"], **kept[-1]})
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "not run"
            reason = reason.removeprefix("Skipped: ")
            check.update(status="not_run", passed=False, message=reason)
        elif report.passed:
            check.update(status="passed", passed=True)
            if run.grade is not None and run.grade.notes:
                check["message"] = "\n".join(run.grade.notes)[:2000]
        else:
            self._failure(check, call.excinfo, run)
            run.failed = True
        if run.grade is not None:
            run.grade.notes = []
        run.status[check["name"]] = check["status"]
        run.checks.append(check)

    def _check(self, item) -> dict[str, Any]:
        if isinstance(item, EngineItem):
            name, title = item.check, item.title
        else:
            name = item.name.removeprefix("test_")
            doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines()
            title = doc[0] if doc else name.replace("_", " ")
        return {"name": name, "title": title, "passed": False, "status": "failed", "message": "", "case": None,
                "diagnosis": None}

    def _failure(self, check: dict[str, Any], excinfo, run: ExerciseRun) -> None:
        exc = excinfo.value if excinfo else None
        if isinstance(exc, CheckFailed):
            check.update(message=self._relative(run, exc.message), case=exc.case)
            if exc.diagnosis is not None:
                check["diagnosis"] = {"id": exc.diagnosis.id, "message": exc.diagnosis.message}
            if exc.fault and exc.fault.get("line"):
                check["line"] = exc.fault.get("line")
            if exc.fault:
                check["fault_type"] = str(exc.fault.get("type", ""))[:100]
                run.unwritten = run.unwritten or check["fault_type"] == "NotImplementedError"
            return
        if isinstance(exc, SessionDied):
            check.update(message=str(exc))
            return
        check["status"] = "error"
        check["message"] = "the grader itself failed on this check (not your code's fault); please report it"
        if self.job.get("author") and excinfo is not None:  # the author reads what their pack did
            check["message"] = _author_detail(excinfo.type, exc, excinfo.tb)

    @staticmethod
    def _relative(run: ExerciseRun, message: str) -> str:
        """Name the learner's files as they see them (relative to the workspace)."""
        real = os.path.dirname(run.job["file"]) + os.sep
        shown = os.path.dirname(run.job.get("display_file") or "")
        return message.replace(real, shown + os.sep if shown else "")

    def pytest_runtest_teardown(self, item, nextitem) -> None:
        run = self._run_of(item)
        if run is not None and (nextitem is None or self._run_of(nextitem) is not run):
            self.finish(run)

    def finish(self, run: ExerciseRun) -> None:
        if run.finished:
            return
        run.finished = True
        if run.learner is not None:
            run.output = run.learner.session.close()
        run.duration = time.monotonic() - run.started

    # -- the verdict ------------------------------------------------------------------------
    def results(self) -> list[dict[str, Any]]:
        out = []
        for run in self.runs.values():
            self.finish(run)
            checks = run.checks
            passed = bool(checks) and run.error is None and all(c["passed"] for c in checks)
            first_fail = next((c for c in checks if not c["passed"] and c["status"] != "not_run"), None)
            own = [c for c in checks if c["name"] not in ENGINE_CHECKS]
            faults = [c.get("fault_type") for c in own if c.get("fault_type")]
            # The starter as handed out (what it gives, such as its layers, earns nothing), or code
            # that passes nothing and fails only on NotImplementedError.
            not_started = not passed and (_untouched(run.job) or not any(c["passed"] for c in own) and bool(faults)
                                          and all(f == "NotImplementedError" for f in faults))
            for c in checks:
                c.pop("fault_type", None)
            out.append({
                "exercise": run.job["id"], "title": run.job.get("title", ""), "passed": passed,
                "score": score(run.job["points"], checks, passed, not_started), "max_score": run.job["points"],
                "not_started": not_started,
                "diagnosis": first_fail["diagnosis"] if first_fail else None,
                "duration_s": round(getattr(run, "duration", 0.0), 3), "seed": self.job["seed"],
                "devices": self.job.get("devices", ["cpu"]), "checks": checks, "output": run.output,
                "error": run.error, "file": run.job.get("display_file"), "figures": run.figures,
            })
        return out
