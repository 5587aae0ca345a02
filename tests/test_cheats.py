"""Submissions that try to fool the grader must fail, with a message, never pass.

All cheats are graded in one `dl-course check` (one judge, one fresh learner process each),
using a pack with clones of `subsequent_mask` under the cheat's name.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import Cli, by_id, make_pack, reference_source

WRONG = "torch.zeros(1, size, size, dtype=torch.bool, device=device)"

CHEATS = {
    # First on purpose: it signals its whole process group (through ctypes, past the audit hook);
    # every exercise graded after it must still get its own verdict.
    "ctypes_kill_group": f"""
        import ctypes, torch
        ctypes.CDLL(None).kill(0, 9)
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    # It kills the process that forks the learner processes (its parent, through ctypes).
    "ctypes_kill_zygote": f"""
        import ctypes, torch
        libc = ctypes.CDLL(None)
        libc.kill(libc.getppid(), 9)
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    "patch_allclose": f"""
        import torch
        torch.allclose = lambda *a, **k: True
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    "patch_assert_close": f"""
        import torch, torch.testing
        torch.testing.assert_close = lambda *a, **k: None
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    "patch_tensor_eq": f"""
        import torch
        torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
        torch.Tensor.__ne__ = lambda self, other: torch.zeros_like(self, dtype=torch.bool)
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    "exit_at_import": """
        import os
        os._exit(0)
    """,
    "exit_in_function": """
        import sys
        def subsequent_mask(size, device=None):
            sys.exit(0)
    """,
    "tensor_subclass": f"""
        import torch
        class Liar(torch.Tensor):
            def __eq__(self, other):
                return True
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return True
        def subsequent_mask(size, device=None):
            return {WRONG}.as_subclass(Liar)
    """,
    "read_hidden_suite": """
        import torch
        SOURCE = open("{pack}/grader/chapter09/read_hidden_suite/test_read_hidden_suite.py").read()
        def subsequent_mask(size, device=None):
            return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
    """,
    "import_reference": """
        import importlib.util
        spec = importlib.util.spec_from_file_location("ref", "{pack}/solutions/chapter09/import_reference.py")
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
        subsequent_mask = ref.subsequent_mask
    """,
    "list_hidden_folder": """
        import os, torch
        NAMES = os.listdir("{pack}/grader/chapter09")
        def subsequent_mask(size, device=None):
            return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
    """,
    "kill_the_judge": """
        import os, signal, torch
        os.kill(os.getppid(), signal.SIGKILL)
        def subsequent_mask(size, device=None):
            return torch.zeros(1, size, size, dtype=torch.bool, device=device)
    """,
    "start_a_process": """
        import subprocess, torch
        subprocess.run(["true"])
        def subsequent_mask(size, device=None):
            return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
    """,
    "hog_memory": """
        import torch
        def subsequent_mask(size, device=None):
            hog = torch.ones(2**31)  # 8 GiB, over the learner process's memory cap
            return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
    """,
    "network": """
        import socket, torch
        socket.create_connection(("127.0.0.1", 9), timeout=1)
        def subsequent_mask(size, device=None):
            return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
    """,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Cli, dict, int]:
    root = tmp_path_factory.mktemp("cheats")
    pack = make_pack(root / "pack", {name: {} for name in CHEATS} | {"infinite_loop": {"time_limit_s": 3},
                                                                       "sleeper": {"time_limit_s": 1}, "loud": {}})
    ws = root / "work"
    ws.mkdir()
    cli = Cli(ws, pack)
    assert cli("start", "chapter9").returncode == 0
    chapter = ws / "chapter09"
    for name, source in CHEATS.items():
        (chapter / f"{name}.py").write_text(textwrap.dedent(source).replace("{pack}", str(pack)))
    (chapter / "infinite_loop.py").write_text("def subsequent_mask(size, device=None):\n    while True:\n        pass\n")
    (chapter / "sleeper.py").write_text("import time\ntime.sleep(600)\n")
    (chapter / "loud.py").write_text(reference_source() + "\nprint('x' * 5_000_000)\n")
    # Files that would hijack Python or pytest if either ever ran in the workspace.
    for folder in (ws, chapter):
        (folder / "conftest.py").write_text("import os\nos._exit(0)\n")
        (folder / "sitecustomize.py").write_text("import os\nos._exit(0)\n")
        (folder / "evil.pth").write_text("import os; os._exit(0)\n")
        (folder / "pytest.py").write_text("raise SystemExit(0)\n")
        (folder / "torch.py").write_text("raise SystemExit(0)\n")
    code, report = cli.json("check", timeout=600)
    return cli, by_id(report), code


def test_no_cheat_passes_and_check_exits_1(graded):
    _, results, code = graded
    assert code == 1
    cheats = [name for name in CHEATS] + ["infinite_loop", "sleeper"]
    passed = [name for name in cheats if results[name]["passed"]]
    assert passed == []


def test_the_real_exercise_still_passes_beside_hijack_files(graded):
    cli, results, _ = graded
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    code, report = cli.json("check", "subsequent_mask")
    assert code == 0, report


@pytest.mark.parametrize("name", ["patch_allclose", "patch_assert_close", "patch_tensor_eq"])
def test_patching_comparisons_changes_nothing(graded, name):
    _, results, _ = graded
    failing = _first_failure(results[name])
    assert failing["name"] == "values" and "values differ" in failing["message"]


def test_exit_at_import_is_a_failure(graded):
    failing = _first_failure(graded[1]["exit_at_import"])
    assert failing["name"] == "loads" and "exit status 0" in failing["message"]


def test_exit_inside_the_function_is_a_failure(graded):
    failing = _first_failure(graded[1]["exit_in_function"])
    assert "exit(0)" in failing["message"]


def test_tensor_subclass_cannot_cross(graded):
    failing = _first_failure(graded[1]["tensor_subclass"])
    assert "subclass" in failing["message"]


@pytest.mark.parametrize("name", ["read_hidden_suite", "import_reference", "list_hidden_folder"])
def test_hidden_files_cannot_be_read(graded, name):
    # Behind the boundary the hidden folders are not in the learner's filesystem at all; without
    # it the audit hook refuses to open them.
    failing = _first_failure(graded[1][name])
    assert failing["name"] == "loads"
    assert any(why in failing["message"] for why in ("not allowed", "No such file", "No module named"))


@pytest.mark.parametrize("name", ["kill_the_judge", "start_a_process", "network"])
def test_processes_and_network_are_refused(graded, name):
    failing = _first_failure(graded[1][name])
    assert failing["name"] == "loads" and "not allowed" in failing["message"]


def test_memory_is_capped(graded):
    failing = _first_failure(graded[1]["hog_memory"])
    assert "memory" in failing["message"].lower()


def test_infinite_loop_times_out_and_the_rest_are_graded(graded):
    result = graded[1]["infinite_loop"]
    assert "timed out after 3 s of processor time" in _first_failure(result)["message"]
    assert graded[1]["loud"]["passed"]


def test_code_that_waits_forever_is_stopped_by_the_wall_clock(graded):
    """Waiting uses no processor time: the wall clock ends it, at three times the limit, and
    the message says which clock ran out."""
    message = _first_failure(graded[1]["sleeper"])["message"]
    assert "no answer after 3 s of wall-clock time" in message, message


def test_huge_output_is_capped(graded):
    output = graded[1]["loud"]["output"]
    assert len(output) < 100_000 and "output cut" in output


def _first_failure(result: dict) -> dict:
    assert not result["passed"], result
    failing = [c for c in result["checks"] if c["status"] in ("failed", "error")]
    assert failing, result
    assert failing[0]["status"] == "failed", failing[0]["message"]
    return failing[0]


def test_signalling_its_own_group_sinks_only_itself(graded):
    _, results, _ = graded
    assert not results["ctypes_kill_group"]["passed"]
    # Without the box it sinks itself ("killed"); in the box it is PID 1 of its own namespace, where
    # the signal reaches nothing at all, and it is failed on its (wrong) values.
    # Graded after it in the same judge: still a fair verdict, not "the grader failed".
    assert results["loud"]["passed"], results["loud"]


def test_killing_the_forking_process_sinks_only_itself(graded):
    _, results, _ = graded
    assert not results["ctypes_kill_zygote"]["passed"]
    # Every exercise graded after it gets a fair verdict from a fresh zygote, none "the grader failed".
    assert results["loud"]["passed"], results["loud"]
    errors = [name for name, r in results.items() for c in r["checks"] if c["status"] == "error"]
    assert errors == []
