"""The control group around each learner box (grading.cgroups), against the real kernel.

Skipped where this machine lets the grader make no group (no writable cgroup v1 hierarchy, no
delegated cgroup v2 group): `dl-course doctor` then says why, and the rlimits still hold.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import EXE, make_pack, started
from dl_course.grading import cgroups

MiB = 1024**2


@pytest.fixture
def group():
    made = cgroups.create(256 * MiB, pids=40)
    if made is None:
        pytest.skip(f"no control group can be made here: {cgroups.why_not()}")
    yield made
    made.remove()


def test_memory_of_the_whole_group_is_bounded_and_the_kill_is_counted(group) -> None:
    """Four processes of 100 MiB each stay under any per-process cap of 256 MiB, but not under
    the group's: the kernel ends one, and the group's count says it was for memory."""
    code = ("import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\n"
            "block = bytearray(100 * 1024 * 1024)\nfor i in range(0, len(block), 4096):\n    block[i] = 1\n"
            "import time; time.sleep(2)\n")
    before = group.oom_kills()
    proc = subprocess.run([sys.executable, "-c", code], preexec_fn=group.join, timeout=60)
    time.sleep(0.5)
    assert group.oom_kills() > before, f"no OOM kill counted (exit {proc.returncode})"


def test_processes_of_the_whole_group_are_bounded(group) -> None:
    code = ("import os, time\nmade = 0\ntry:\n    for _ in range(200):\n        if os.fork() == 0:\n"
            "            time.sleep(3)\n            os._exit(0)\n        made += 1\nexcept OSError:\n    pass\n"
            "print(made)\n")
    proc = subprocess.run([sys.executable, "-c", code], preexec_fn=group.join, capture_output=True, text=True,
                          timeout=60)
    assert int(proc.stdout.split()[-1]) < 40, proc.stdout


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_a_group_spinning_many_processes_weighs_as_one_where_a_cpu_controller_is() -> None:
    """Four spinning processes in a box and one outside it share one CPU for the same 1.5 s: the
    one outside (a classmate's judge) gets about as much as the whole box (at least 0.4 of it even
    beside a hog on the same CPU), not a quarter of it as it would without the group.
    Compared with each other, so other work on the machine scales both alike."""
    made = cgroups.create(256 * MiB, pids=40)
    if made is None or not made.cpu_shared:
        if made is not None:
            made.remove()
        pytest.skip(f"no cpu controller for the group here: {cgroups.why_not()}")
    cpu = min(os.sched_getaffinity(0))
    spin = ("import os, time\nend = time.monotonic() + 1.5\n{fork}while time.monotonic() < end:\n    pass\n"
            "usage = os.times()\nprint(usage.user + usage.system, flush=True)\n")
    pinned = ["taskset", "-c", str(cpu), sys.executable, "-c"]
    try:
        seen = []
        for _ in range(2):  # a measurement of shared CPUs: the better of two, in case of other load
            box = subprocess.Popen(pinned + [spin.format(fork="os.fork()\nos.fork()\n")], preexec_fn=made.join,
                                   stdout=subprocess.PIPE, text=True)
            judge = subprocess.run(pinned + [spin.format(fork="")], capture_output=True, text=True, timeout=60)
            box_out, _ = box.communicate(timeout=60)
            seen.append((float(judge.stdout.split()[-1]), sum(float(v) for v in box_out.split())))
            if seen[-1][0] > 0.4 * seen[-1][1]:
                break
        outside, inside = seen[-1]
        assert outside > 0.4 * inside, (f"the process outside the box got {outside:.2f} s of processor time "
                                        f"against {inside:.2f} s for the four spinners in it")
    finally:
        time.sleep(0.2)
        made.remove()


def _group_members() -> dict[int, str]:
    """Processes in a dl-course group, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if cgroups._PREFIX in (entry / "cgroup").read_text():
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return found


def test_a_check_runs_the_learner_box_in_a_group_and_leaves_none_behind(tmp_path: Path) -> None:
    probe = cgroups.create(64 * MiB)
    if probe is None:
        pytest.skip(f"no control group can be made here: {cgroups.why_not()}")
    probe.remove()
    pack = make_pack(tmp_path / "pack")
    cli = started(tmp_path / "work", "chapter9", pack)
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text("import time\ntime.sleep(4)\n")
    seen: dict[int, str] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(_group_members())
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        subprocess.run([EXE, "check", "subsequent_mask"], cwd=cli.cwd, capture_output=True, timeout=120,
                       env=dict(os.environ, DL_COURSE_PACK=str(pack)))
    finally:
        done.set()
        watcher.join()
    assert any("zygote_main" in cmd or "dl_course.grading.learner" in cmd for cmd in seen.values()), seen
    assert not any("dl-course" in cmd and "check" in cmd for cmd in seen.values()), "the CLI itself is not boxed"
    own = cgroups._own_paths()
    for controller, (mount, root) in {c: (m, r) for m, r, kind, opts in cgroups._mounts()
                                      for c in ("memory", "pids") if kind == "cgroup" and c in opts}.items():
        parent = cgroups._inside(mount, root, own.get(controller, "/"))
        # Groups are named after the judge that made them: one whose judge is gone was left behind
        # (those of graders still running on this machine are theirs to remove).
        left = [n for n in os.listdir(parent) if n.startswith(cgroups._PREFIX)
                and not Path(f"/proc/{n[len(cgroups._PREFIX):].split('-')[0]}").exists()]
        assert left == [], f"groups left behind in {parent}: {left}"
