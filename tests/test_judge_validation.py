"""Answers forged inside the learner process (which can rewrite its own runtime): the judge
refuses each one as the learner's failed check, fast, and never as a grader error."""

from __future__ import annotations

import textwrap

import pytest

from conftest import Cli, by_id, make_pack, reference_source

FORGERS = {
    # 3 KB on the wire, 2**40 parts once expanded: it used to take the judge over 1 GB and a minute.
    "shared_references": """
        import dl_course.grading.wire as wire
        real = wire.dumps
        def bomb(payload):
            x = [1.0]
            for _ in range(40):
                x = [x, x]
            return real({"ok": {"__seq__": "tuple", "items": [x]}, "forbidden": {"a": x}})
        wire.dumps = bomb
    """,
    # Right at import (the names exist), then every call answers with an empty, sparse tree.
    "sparse_answers": """
        import dl_course.grading.wire as wire
        real = wire.dumps
        def sparse(payload):
            ok = payload.get("ok")
            if isinstance(ok, dict) and "__dict__" in ok:
                payload = {"ok": {"__dict__": {}}}
            return real(payload)
        wire.dumps = sparse
    """,
    # A fault report that is not one: nested objects where strings belong.
    "odd_fault": """
        import dl_course.grading.wire as wire
        real = wire.dumps
        def odd(payload):
            if "ok" in payload and isinstance(payload["ok"], dict) and "__dict__" in payload["ok"]:
                x = ["m"]
                for _ in range(40):
                    x = [x, x]
                payload = {"fault": {"type": x, "message": x, "line": x}}
            return real(payload)
        wire.dumps = odd
    """,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("forged")
    pack = make_pack(root / "pack", {name: {} for name in FORGERS})
    ws = root / "work"
    ws.mkdir()
    cli = Cli(ws, pack)
    assert cli("start", "chapter9", "--no-tui").returncode == 0
    for name, source in FORGERS.items():
        # The right function, so only the forged answers can fail it.
        (ws / "chapter09" / f"{name}.py").write_text(reference_source() + textwrap.dedent(source))
    code, report = cli.json("check", timeout=300)
    return code, by_id(report)


@pytest.mark.parametrize("name", sorted(FORGERS))
def test_a_forged_answer_is_the_learners_failure(graded, name):
    code, results = graded
    result = results[name]
    assert code == 1 and not result["passed"], result
    assert result["error"] is None
    assert not [c for c in result["checks"] if c["status"] == "error"], result["checks"]
    assert result["duration_s"] < 60


@pytest.mark.parametrize("role", ["solution", "mistakes", "suite"])
def test_the_judge_grades_only_against_the_bytes_the_cli_read(tmp_path, monkeypatch, role):
    """A reference, known mistakes or suite rewritten on disk after the CLI made the job (by
    anything that could reach the pack) is not graded against: the judge hashes what it reads
    and refuses a difference, and the result is a grader error, never a verdict."""
    from dl_course.course import load_pack
    from dl_course.grading import runner

    pack = load_pack(make_pack(tmp_path / "pack"))
    ex = pack.exercises["subsequent_mask"]
    learner = tmp_path / "subsequent_mask.py"
    learner.write_text("import torch\n\ndef subsequent_mask(size, device=None):\n"
                       "    return torch.ones(1, size, size, dtype=torch.bool, device=device)\n")
    target = {"solution": ex.solution, "mistakes": ex.mistakes, "suite": ex.suite}[role]
    made = runner._job_entry

    def then_rewritten(p, sub):
        entry = made(p, sub)
        # What a rewrite would aim for: the all-True mask above graded as correct.
        target.write_text(target.read_text() + "\n# rewritten after the job was made\n")
        return entry

    monkeypatch.setattr(runner, "_job_entry", then_rewritten)
    result = runner.grade(pack, [runner.Submission(ex, learner, learner.name)], device="cpu", seed=1)[0]
    assert not result.passed
    assert "changed on disk while it was being graded" in (result.error or ""), result.error
