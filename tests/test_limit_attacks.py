"""Hostile submissions against the time limits (processor time, 3x wall-clock backstop) and the
control group around each learner box.

Each test grades an attack through the real `dl-course check`; it FAILS when the attack works.
Each one worked when it was written (see the commit that added it) and is defended now.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUILTIN, EXE, by_id, failed_checks, make_pack, reference_source, started
from dl_course.grading import cgroups

MiB = 1024**2


def _check(cwd: Path, pack: Path, *exercises: str, timeout: float) -> tuple[dict | None, float]:
    """`dl-course check --json`; (report, seconds), or (None, seconds) when it ran past
    `timeout`: then it is stopped as Ctrl-C would (the CLI kills its judge and learner box)."""
    env = dict(os.environ, DL_COURSE_PACK=str(pack), COLUMNS="120")
    started_at = time.monotonic()
    proc = subprocess.Popen([EXE, "check", *exercises, "--json"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        return None, time.monotonic() - started_at
    return json.loads(out), time.monotonic() - started_at


# -- 1. the processor-time limit counts the main thread only ---------------------------------

HELPER_THREAD = """
import threading, time

import torch


def _work():
    started = time.thread_time()
    while time.thread_time() - started < 5.0:  # 5 s of one thread's work, on a 3 s limit
        pass


_t = threading.Thread(target=_work)
_t.start()
_t.join()  # the main thread waits: it uses no processor time meanwhile


def subsequent_mask(size, device=None):
    return torch.ones(1, size, size, dtype=torch.bool, device=device).tril()
"""


def test_work_moved_to_a_helper_thread_counts_toward_the_limit(tmp_path: Path) -> None:
    """One thread doing 5 s of work cannot fit a 3 s limit however the machine runs: a thread
    cannot be sped up by idle cores, so moving the work off the main thread must not escape the limit."""
    pack = make_pack(tmp_path / "pack", {"helper_thread": {"time_limit_s": 3}})
    cli = started(tmp_path / "work", "chapter9", pack)
    (cli.cwd / "chapter09" / "helper_thread.py").write_text(HELPER_THREAD)
    report, _ = _check(cli.cwd, pack, "helper_thread", timeout=60)
    assert report is not None
    result = by_id(report)["helper_thread"]
    assert not result["passed"], "5 s of single-threaded work passed a 3 s time limit"


# -- 2. a session that reads its requests without consuming them ------------------------------

PEEK_FOREVER = """

import socket as _socket
import sys as _sys

_channel = _sys.modules["dl_course.grading.channel"]
_armed = set()


def _peek_exact(sock, size, deadline):
    # Read the judge's requests with MSG_PEEK and a peek offset: answers stay correct, but nothing
    # is ever taken off the socket, so the judge's send buffer fills and its sendall() (which has
    # no deadline) blocks for good. The session then waits in recv(): no processor time is used.
    if sock.fileno() not in _armed:
        sock.setsockopt(_socket.SOL_SOCKET, 42, 0)  # SO_PEEK_OFF
        _armed.add(sock.fileno())
    out = b""
    while len(out) < size:
        chunk = sock.recv(size - len(out), _socket.MSG_PEEK)
        if not chunk:
            raise _channel.ChannelClosed()
        out += chunk
    return out


_channel._recv_exact = _peek_exact
"""


def test_a_session_that_stops_draining_its_socket_cannot_hang_the_grader(tmp_path: Path) -> None:
    limit = 3
    pack = tmp_path / "pack"
    for part in ("curriculum", "exercises", "solutions", "grader"):
        shutil.copytree(BUILTIN / part, pack / part)
    toml = pack / "exercises" / "chapter09" / "square_transformer" / "exercise.toml"
    toml.write_text(re.sub(r"^time_limit_s = .*$", f"time_limit_s = {limit}", toml.read_text(), flags=re.M))
    cli = started(tmp_path / "work", "chapter9", pack)
    folder = cli.cwd / "chapter09"
    for solution in (BUILTIN / "solutions" / "chapter09").glob("*.py"):  # what the capstone uses
        shutil.copy(solution, folder / solution.name)
    target = folder / "square_transformer.py"
    target.write_text(target.read_text() + PEEK_FOREVER)
    report, took = _check(cli.cwd, pack, "square_transformer", timeout=3 * limit + 15)
    assert report is not None, f"dl-course check still running after {took:.0f} s (time limit {limit} s)"
    assert not by_id(report)["square_transformer"]["passed"]


# -- 3. memory one session leaves in the box's control group ----------------------------------

SQUAT = """
import ctypes, threading

libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype, libc.shmget.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.restype, libc.shmat.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
CHUNK, TARGET = 32 << 20, 5632 << 20
made, lock = [0], threading.Lock()


def fill():
    # System V shared memory lives in the box's IPC namespace, which every session shares: the
    # segments (never removed) outlive this session, charged to the box's control group.
    while True:
        with lock:
            if made[0] >= TARGET:
                return
            made[0] += CHUNK
        segment = libc.shmget(0, CHUNK, 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
        if segment < 0:
            return
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, CHUNK)
        libc.shmdt(address)


threads = [threading.Thread(target=fill) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""

# Honest code: the reference, plus 1.75 GiB of working memory, far under the 6 GiB a session may use.
BIG_BUT_HONEST = reference_source() + "\n_scratch = b'\\x01' * (1792 * 1024 * 1024)\n"


def test_memory_left_behind_by_one_session_does_not_fail_the_next(tmp_path: Path) -> None:
    probe = cgroups.create(64 * MiB)
    if probe is None:
        pytest.skip(f"no control group can be made here: {cgroups.why_not()}")
    probe.remove()
    pack = make_pack(tmp_path / "pack", {"a_squatter": {}, "b_classmate": {}})
    cli = started(tmp_path / "work", "chapter9", pack)
    (cli.cwd / "chapter09" / "a_squatter.py").write_text(SQUAT)
    (cli.cwd / "chapter09" / "b_classmate.py").write_text(BIG_BUT_HONEST)
    report, _ = _check(cli.cwd, pack, "a_squatter", "b_classmate", timeout=120)
    assert report is not None
    result = by_id(report)["b_classmate"]
    assert result["passed"], failed_checks(result)
