"""The judge's side of the learner process: start the zygote, open one session per exercise.

A session is a fresh forked process that imported only the learner's file. The judge talks
to it over a socket of length-prefixed frames, reads its output through a capped pipe, and
kills it when its time is up.
"""

from __future__ import annotations

import json
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from dl_course.grading.channel import ChannelClosed, ChannelTimeout, FrameTooLarge, recv_frame, send_frame

__all__ = ["Zygote", "Session", "SessionDied", "OUTPUT_CAP", "WALL_FACTOR", "BOX_MEMORY", "safe_env"]

OUTPUT_CAP = 64 * 1024
# An exercise's time limit is counted in processor time: the zygote ends a session once any one
# thread of it (or of a process it started) has used `time_limit_s` seconds (learner._watch). On
# an idle machine that is the wall-clock time; on a machine busy with other work, correct code is
# slowed down but not failed. Two backstops: RLIMIT_CPU for all the session's threads together
# (cpu_backstop), and the wall clock at WALL_FACTOR times the limit, for code that waits, stops
# reading its requests or spreads its work thin.
WALL_FACTOR = 3
# The memory of a whole box (zygote and session together), where a control group bounds it:
# a session's own cap (RLIMIT_AS/DATA, 6 GiB) plus the zygote's torch.
BOX_MEMORY = 7 * 1024**3
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "CUDA_VISIBLE_DEVICES", "SYSTEMROOT",
             "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "DL_COURSE_NO_BOX", "DL_COURSE_NO_CGROUP")


def safe_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A whitelisted environment: nothing like PYTHONPATH, PYTHONSTARTUP or PYTEST_ADDOPTS."""
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    env.update(extra or {})
    return env


class SessionDied(Exception):
    """The learner process ended (or was ended) without a valid answer. The message says how."""


class _Output(threading.Thread):
    """Drains a pipe, keeping at most OUTPUT_CAP bytes (a learner printing 1 GB fills nothing)."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.kept, self.total = fd, bytearray(), 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            if len(self.kept) < OUTPUT_CAP:
                self.kept += chunk[: OUTPUT_CAP - len(self.kept)]
        os.close(self.fd)

    def text(self) -> str:
        text = self.kept.decode("utf-8", "replace")
        if self.total > len(self.kept):
            text += f"\n… output cut: {self.total - len(self.kept):,} more bytes not shown"
        return text


class Zygote:
    """The warm learner process (torch imported, nothing learner-made) that forks sessions."""

    def __init__(self, python: str | None = None, cwd: str | None = None):
        from dl_course.grading import boundary, cgroups

        self._tmp = tempfile.TemporaryDirectory(prefix="dl-course-learner-")
        # The zygote and every session it forks share one control group where the machine
        # allows it (see cgroups): memory and processes bounded for the whole box.
        self.group = cgroups.create(BOX_MEMORY)
        self.control, child = socket.socketpair()
        self.stderr = open(os.path.join(self._tmp.name, "zygote.err"), "w+b")
        python = python or sys.executable
        self.box = boundary.Box() if boundary.status().box else None
        self._opened = 0
        if self.box is not None:
            # Behind the OS boundary: the zygote sees only what the box holds (see boundary).
            argv = self.box.command([python, "-I", "-c",
                                     f"import sys; sys.path.insert(0, {boundary.BOX_RUNTIME!r}); "
                                     "from dl_course.grading.learner import zygote_main; "
                                     f"zygote_main({child.fileno()})"])
            box_preexec, where = self.box.preexec, self.box.tmp
        else:
            argv, box_preexec, where = [python, "-I", "-m", "dl_course.grading.learner", str(child.fileno())], None, None
        group = self.group

        def preexec() -> None:  # in the child: into the group first (as root, before any uid drop)
            if group is not None:
                group.join()
            if box_preexec is not None:
                box_preexec()

        self.proc = subprocess.Popen(
            argv, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
            cwd=cwd or where or self._tmp.name, env=safe_env(), start_new_session=True,
            preexec_fn=preexec if group is not None or box_preexec is not None else None,
        )
        child.close()
        self.ready = False

    @property
    def isolated(self) -> bool:
        """Whether the learner's code runs behind the OS boundary (a box) or only the in-process fences."""
        return self.box is not None

    def _stage(self, config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Copy the learner's folder (its regular files only, never through a link) into the box's
        inbox, where this session alone will see it, and point the session at the copy."""
        if self.box is None:
            return config, None
        from dl_course.grading import boundary

        self._opened += 1
        real_file = os.path.realpath(config["file"])
        real_dir = os.path.dirname(real_file)
        staged = os.path.join(self.box.inbox, f"s{self._opened}")
        os.makedirs(staged)
        os.chmod(staged, 0o755)
        total = 0
        for entry in os.scandir(real_dir):
            if not entry.is_file(follow_symlinks=False) and entry.path != real_file:
                continue
            size = entry.stat(follow_symlinks=entry.path == real_file).st_size
            if size > 4 * 1024 * 1024 or total + size > 32 * 1024 * 1024:
                continue
            total += size
            try:
                flags = os.O_RDONLY | (0 if entry.path == real_file else os.O_NOFOLLOW)
                fd = os.open(entry.path, flags)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as src, open(os.path.join(staged, entry.name), "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.chmod(os.path.join(staged, entry.name), 0o644)
        inside = f"{boundary.BOX_INBOX}/s{self._opened}"
        config = dict(config, file=f"{inside}/{os.path.basename(real_file)}", sys_path=[inside], learner_dirs=[inside],
                      allow_dirs=[], hidden_dirs=[], box_dir=inside, real_dir=real_dir, own_namespaces=True)
        return config, staged

    def _read_event(self, timeout: float | None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        data = b""
        need = 4
        size = None
        while len(data) < need:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.control], [], [], left)[0]:
                    raise TimeoutError("the learner process did not answer")
            chunk = self.control.recv(need - len(data))
            if not chunk:
                raise SessionDied(self._startup_error())
            data += chunk
            if size is None and len(data) == 4:
                size = int.from_bytes(data, "big")
                data, need = b"", size
        return json.loads(data)

    def _startup_error(self) -> str:
        self.stderr.seek(0)
        tail = self.stderr.read()[-2000:].decode("utf-8", "replace")
        return "the learner process could not start" + (f":\n{tail}" if tail else "")

    def wait_ready(self, timeout: float = 120) -> None:
        if not self.ready:
            event = self._read_event(timeout)
            if event.get("event") != "ready":
                raise SessionDied(self._startup_error())
            self.ready = True

    def open(self, config: dict[str, Any], time_limit: float) -> "Session":
        self.wait_ready()
        config, staged = self._stage(config)
        backstop = cpu_backstop(time_limit)
        config = dict(config, cpu_seconds=time_limit, cpu_backstop=backstop)
        mine, theirs = socket.socketpair()
        out_r, out_w = os.pipe()
        payload = json.dumps(config).encode()
        socket.send_fds(self.control, [len(payload).to_bytes(4, "big")], [theirs.fileno(), out_w])
        self.control.sendall(payload)
        theirs.close()
        os.close(out_w)
        event = self._read_event(30)
        output = _Output(out_r)
        output.start()
        return Session(self, mine, event["pid"], output, time_limit, staged, backstop)

    def kill(self, pid: int) -> None:
        """Stop the running session and what it started. Asked of the zygote, which sees the
        session's pid; behind the boundary the judge does not (another PID namespace)."""
        if self.box is None:
            try:
                os.killpg(pid, signal.SIGKILL)
                return
            except (ProcessLookupError, PermissionError):
                pass
        payload = json.dumps({"op": "kill"}).encode()
        try:
            self.control.sendall(len(payload).to_bytes(4, "big") + payload)
        except OSError:
            pass

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        # The zygote holds no state worth a graceful exit: stop it at once.
        self.control.close()
        self.proc.kill()
        self.proc.wait()
        self.stderr.close()
        self._tmp.cleanup()
        if self.box is not None:
            self.box.cleanup()
        if self.group is not None:
            self.group.remove()


def cpu_backstop(time_limit: float) -> int:
    """Processor seconds all of a session's threads may use together (RLIMIT_CPU): the limit on
    every CPU this process may run on, and at least on each of torch's threads, so honest code
    that raises its own thread count is never stopped by it before the wall clock would."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    torch = sys.modules.get("torch")  # the judge's torch: the session starts with the same threads
    threads = torch.get_num_threads() if torch is not None else 1
    return math.ceil(time_limit * max(1, cpus, threads)) + 1


class Session:
    """One learner process for one exercise: requests in, plain answers out, within a time limit
    (processor time, see WALL_FACTOR)."""

    def __init__(self, zygote: Zygote, sock: socket.socket, pid: int, output: _Output, time_limit: float,
                 staged: str | None = None, backstop: float | None = None):
        self.zygote, self.sock, self.pid, self.output = zygote, sock, pid, output
        self.staged = staged
        self.time_limit, self.backstop = time_limit, backstop
        self.wall_limit = time_limit * WALL_FACTOR
        self.deadline = time.monotonic() + self.wall_limit
        self.dead: str | None = None
        self.exit_event: dict[str, Any] | None = None
        self.oom_before = zygote.group.oom_kills() if zygote.group is not None else 0

    def receive(self) -> bytes:
        """The next answer, or SessionDied saying why there is none."""
        if self.dead:
            raise SessionDied(self.dead)
        try:
            return recv_frame(self.sock, self.deadline)
        except ChannelTimeout:
            self._kill()
            self.dead = self._wall_message()
        except FrameTooLarge as e:
            self._kill()
            self.dead = f"the answer was too large ({e.args[0]:,} bytes)"
        except (ChannelClosed, OSError):
            self.dead = self._why_ended()
        raise SessionDied(self.dead)

    def send(self, payload: bytes) -> None:
        if self.dead:
            raise SessionDied(self.dead)
        try:
            send_frame(self.sock, payload, self.deadline)
        except ChannelTimeout:  # it stopped taking requests: the same clock as waiting for an answer
            self._kill()
            self.dead = self._wall_message()
            raise SessionDied(self.dead) from None
        except OSError:
            self.dead = self._why_ended()
            raise SessionDied(self.dead) from None

    def _wall_message(self) -> str:
        return (f"timed out: no answer after {self.wall_limit:g} s of wall-clock time (waiting for something "
                "that never comes, not reading the grader's requests, work spread over many threads or "
                "processes, or a machine far too busy?)")

    def _kill(self) -> None:
        self.zygote.kill(self.pid)  # the session and anything it forked (its own group, its own namespace)
        self._wait_exit()

    def _wait_exit(self) -> dict[str, Any]:
        if self.exit_event is None:
            try:
                self.exit_event = self.zygote._read_event(10)
            except (TimeoutError, SessionDied):
                self.exit_event = {"event": "exited", "status": None, "signal": None}
        return self.exit_event

    def _why_ended(self) -> str:
        event = self._wait_exit()
        group = self.zygote.group
        if event.get("signal") == signal.SIGKILL and group is not None and group.oom_kills() > self.oom_before:
            return (f"the process running your code was ended by the kernel for using more memory than the "
                    f"{group.memory_bytes / 1024**3:g} GiB allowed, before answering")
        if event.get("out_of_time"):
            return (f"timed out after {self.time_limit:g} s of processor time "
                    "(an infinite loop, or far too slow?)")
        cpu = event.get("cpu")
        if (self.backstop and isinstance(cpu, (int, float)) and cpu >= self.backstop - 0.5
                and event.get("signal") in (signal.SIGXCPU, signal.SIGKILL)):
            return (f"timed out: its threads together used {self.backstop:g} s of processor time, the most a "
                    f"{self.time_limit:g} s limit allows on this machine (an infinite loop, or far too slow?)")
        if event.get("signal"):
            sig = event["signal"]
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            extra = " (out of memory?)" if sig == signal.SIGKILL else ""
            return f"the process running your code was killed by {name}{extra} before answering"
        status = event.get("status")
        if status == 0:
            return "your code ended the process (exit status 0) before answering; do not exit while being graded"
        if status is None:
            return "the process running your code ended before answering"
        return f"the process running your code exited with status {status} before answering"

    def close(self) -> str:
        """End the session; return what the learner's code printed (capped)."""
        if not self.dead:
            try:
                from dl_course.grading import wire

                send_frame(self.sock, wire.dumps({"op": "close"}), time.monotonic() + 2)
            except (OSError, ChannelTimeout):
                pass
        self.sock.close()
        if self.exit_event is None:
            try:
                self.exit_event = self.zygote._read_event(5)
            except (TimeoutError, SessionDied):
                self._kill()
        self.output.join(timeout=2)
        if self.staged:
            shutil.rmtree(self.staged, ignore_errors=True)
        return self.output.text()
