"""The runner takes a verdict only from a judge that finished: one that wrote a well-formed
verdict (nonce and all) to its stdout and was then killed is not trusted."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from conftest import make_pack
from dl_course.course import load_pack
from dl_course.grading.runner import Submission, grade

# Stands in for `python -I -m dl_course.grading.judge`: answers the job it is sent with full marks,
# exactly as the judge would, then ends as the given signal (or exit status) says.
FAKE_JUDGE = """#!{python}
import json, os, signal, sys
job = json.load(sys.stdin)
results = [{{"exercise": e["id"], "title": e.get("title", ""), "passed": True, "score": e["points"],
             "max_score": e["points"], "diagnosis": None, "duration_s": 0.1, "seed": job["seed"],
             "devices": job["devices"], "checks": [], "output": "", "error": None,
             "file": e.get("display_file")}} for e in job["exercises"]]
sys.stdout.write(json.dumps({{"version": 1, "nonce": job["nonce"], "results": results}}))
sys.stdout.close()
{ending}
"""


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    root = tmp_path_factory.mktemp("verdict")
    pack = load_pack(make_pack(root / "pack"))
    exercise = pack.exercises["subsequent_mask"]
    path = root / "subsequent_mask.py"
    path.write_text("def subsequent_mask(size, device=None):\n    raise NotImplementedError\n")
    return root, pack, Submission(exercise, path, "subsequent_mask.py")


def fake_judge(root: Path, name: str, ending: str) -> str:
    script = root / name
    script.write_text(FAKE_JUDGE.format(python=sys.executable, ending=ending))
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("name, ending", [
    ("killed", "os.kill(os.getpid(), signal.SIGKILL)"),
    ("failed", "os._exit(1)"),
])
def test_a_verdict_from_a_judge_that_did_not_exit_cleanly_is_refused(submission, name, ending):
    root, pack, sub = submission
    [result] = grade(pack, [sub], device="cpu", python=fake_judge(root, name, ending))
    assert not result.passed and result.score == 0
    assert "without a verdict" in (result.error or "")


def test_the_same_verdict_from_a_judge_that_exits_0_is_taken(submission):
    """The control: the stand-in judge's answer is well-formed, so only the exit status differs."""
    root, pack, sub = submission
    [result] = grade(pack, [sub], device="cpu", python=fake_judge(root, "clean", "os._exit(0)"))
    assert result.passed and result.score == sub.exercise.points


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc/PID/limits (Linux)")
def test_the_judge_runs_under_its_own_memory_limit():
    from dl_course.grading.judge import JUDGE_MEMORY
    from dl_course.grading.runner import Judge

    judge = Judge()
    try:
        deadline = time.monotonic() + 60
        limits = ""
        while "Max data size" not in limits or str(JUDGE_MEMORY) not in limits:
            assert time.monotonic() < deadline, limits
            limits = Path(f"/proc/{judge.proc.pid}/limits").read_text()
        line = next(row for row in limits.splitlines() if row.startswith("Max data size"))
        assert line.split()[3:5] == [str(JUDGE_MEMORY)] * 2
        core = next(row for row in limits.splitlines() if row.startswith("Max core file size"))
        assert core.split()[4:6] == ["0", "0"]
    finally:
        judge.close()
