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
