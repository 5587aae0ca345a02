"""The learner process: a warm zygote that forks one fresh, fenced process per graded exercise.

Started by the judge as `python -I -m dl_course.grading.learner CONTROL_FD`, from outside the
workspace and with a whitelisted environment. The zygote imports torch once (never CUDA), then
for each session it receives, over the control socket, a JSON config plus two descriptors (the
session socket and the output pipe), forks, and reports the child's pid and exit status. The
child installs the fences of `sandbox`, imports the learner's file and answers operations
(`ops.Executor`) until told to close. Nothing the learner's code does can reach the judge
except the plain data it sends back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from typing import Any

__all__ = ["zygote_main"]


def _send_json(sock: socket.socket, obj: Any) -> None:
    data = json.dumps(obj).encode()
    sock.sendall(len(data).to_bytes(4, "big") + data)


def _recv_control(sock: socket.socket) -> tuple[dict | None, list[int]]:
    header, fds, _, _ = socket.recv_fds(sock, 4, 4)
    if not header:
        return None, []
    size = int.from_bytes(header, "big")
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None, []
        body += chunk
    return json.loads(body), list(fds)


def zygote_main(control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    import torch  # noqa: F401 - the point of the zygote: import it once

    import dl_course.grading.fences  # noqa: F401
    import dl_course.grading.ops  # noqa: F401
    import dl_course.grading.sandbox  # noqa: F401
    import dl_course.grading.wire  # noqa: F401

    _send_json(control, {"event": "ready"})
    while True:
        config, fds = _recv_control(control)
        if config is None:
            return
        if config.get("op") == "kill" or len(fds) != 2:  # no session is running: nothing to stop
            for fd in fds:
                os.close(fd)
            continue
        session_fd, output_fd = fds
        pid = os.fork()
        if pid == 0:  # the child: never returns
            # Its own process group: code that signals "its whole group" reaches only itself and
            # what it forked, never the zygote; and the group is what is killed when it ends.
            os.setpgid(0, 0)
            control.close()
            code = 70
            try:
                code = _contained(config, session_fd, output_fd)
            finally:
                os._exit(code)
        try:
            os.setpgid(pid, pid)  # also here, so the group exists before either side goes on
        except OSError:
            pass  # the child got there first (or is already gone)
        os.close(session_fd)
        os.close(output_fd)
        _send_json(control, {"event": "started", "pid": pid})
        ended = _watch(control, pid, config.get("cpu_seconds"))
        try:
            os.killpg(pid, signal.SIGKILL)  # whatever the session forked dies with it
        except OSError:
            pass
        if ended is None:
            return  # the judge is gone
        status, cpu, out_of_time = ended
        how = {"signal": os.WTERMSIG(status), "status": None} if os.WIFSIGNALED(status) else \
            {"signal": None, "status": os.WEXITSTATUS(status)}
        _send_json(control, {"event": "exited", **how, "cpu": cpu, "out_of_time": out_of_time})


def _watch(control: socket.socket, pid: int, cpu_limit: float | None = None) -> tuple[int, float, bool] | None:
    """Wait for the session to end, meanwhile obeying "kill" from the judge (which, outside the
    box's PID namespace, cannot name the session's pid itself), and ending it once any one of its
    threads has used `cpu_limit` seconds of processor time (see _busiest_thread). Returns its wait
    status, the processor seconds it used in all (with what it waited for) and whether it ran out
    of time; None if the judge went away."""
    import select

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    out_of_time = False
    tick = 0.05 if pidfd is None else (0.25 if cpu_limit else None)
    while True:
        watched = [control] + ([pidfd] if pidfd is not None else [])
        ready = select.select(watched, [], [], tick)[0]
        if control in ready:
            message, fds = _recv_control(control)
            for fd in fds:
                os.close(fd)
            if message is None or message.get("op") == "kill":
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                if message is None:
                    os.waitpid(pid, 0)
                    return None
        if cpu_limit and not out_of_time and _busiest_thread(pid) >= cpu_limit:
            out_of_time = True
            _kill_tree(pid)
        if pidfd is None or pidfd in ready:
            done, status, usage = os.wait4(pid, 0 if pidfd is not None else os.WNOHANG)
            if done:
                if pidfd is not None:
                    os.close(pidfd)
                return status, round(usage.ru_utime + usage.ru_stime, 2), out_of_time


def _stat(pid: int | str, tid: int | str | None = None) -> list[str]:
    """The fields of /proc/PID[/task/TID]/stat after the command name (state first)."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def _session_tree(root: int) -> list[int]:
    """`root` and every process descended from it, as /proc shows them (in the box: the box's
    own processes only), whatever session or process group they moved to."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                children.setdefault(int(_stat(name)[1]), []).append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _busiest_thread(root: int) -> float:
    """The most processor time (seconds) any one thread of the session has used: its own threads,
    a helper thread doing the work, or a process it started. No single thread can run longer
    than the wall clock, so on an idle machine this is never stricter than a wall-clock limit;
    on a machine busy with other work it grows only while the session actually runs."""
    ticks = os.sysconf("SC_CLK_TCK")
    busiest = 0.0
    try:
        tree = _session_tree(root)
    except OSError:
        return 0.0
    for pid in tree:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                fields = _stat(pid, tid)
                busiest = max(busiest, (int(fields[11]) + int(fields[12])) / ticks)
            except (OSError, ValueError, IndexError):
                continue
    return busiest


def _kill_tree(root: int) -> None:
    """SIGKILL the session's process group and every process descended from it."""
    try:
        os.killpg(root, signal.SIGKILL)
    except OSError:
        pass
    try:
        tree = _session_tree(root)
    except OSError:
        return
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _contained(config: dict, session_fd: int, output_fd: int) -> int:
    """Run the session in PID and mount namespaces of its own where the kernel allows (the box):
    this process forks the session as PID 1 of the new namespace and passes on how it ended, so
    when the session ends, everything it started ends with it, daemons included."""
    from dl_course.grading import fences

    if not config.get("own_namespaces") or not fences.own_namespaces():
        return _session(config, socket.socket(fileno=session_fd), output_fd)
    child = os.fork()
    if child == 0:
        fences.die_with_parent()  # (its parent lies outside the new namespace: getppid() says 0)
        code = 70
        try:
            _private_proc()
            code = _session(config, socket.socket(fileno=session_fd), output_fd)
        except BaseException:  # noqa: BLE001 - say why on the output pipe, for the author
            import traceback

            os.write(1 if output_fd < 0 else output_fd, traceback.format_exc().encode()[-2000:])
        finally:
            os._exit(code)
    os.close(session_fd)
    os.close(output_fd)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):  # end the same way, so the zygote can say how (SIGKILL cannot be handled)
        if os.WTERMSIG(status) != signal.SIGKILL:
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70


def _private_proc() -> None:
    """A /proc that shows this session's own processes only."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).mount(b"proc", b"/proc", b"proc", 0x2 | 0x4 | 0x8, None)


def _session(config: dict, sock: socket.socket, output_fd: int) -> int:
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    import importlib.util

    from dl_course.grading import sandbox, wire
    from dl_course.grading.channel import ChannelClosed, recv_frame, send_frame
    from dl_course.grading.ops import Executor, LearnerFault

    learner_file = os.path.realpath(config["file"])
    learner_dirs = tuple(os.path.realpath(d) + os.sep for d in config.get("learner_dirs", []))

    def is_learner_frame(filename: str) -> bool:
        if not filename or filename.startswith("<"):
            return False
        real = os.path.realpath(filename)
        return real == learner_file or real.startswith(learner_dirs)

    sys.dont_write_bytecode = True
    gpu = bool(config.get("gpu"))
    sandbox.apply_limits(config.get("memory_bytes"), gpu, config.get("cpu_backstop"))
    if config.get("own_namespaces"):  # in the box: kernel fences too (see fences)
        from dl_course.grading import fences

        fences.rlimits(config.get("memory_bytes"), gpu=gpu)
        fences.landlock()
        fences.seccomp()
    watch = sandbox.ApiWatch(config.get("forbid", []), is_learner_frame)
    for folder in config.get("sys_path", []):
        sys.path.append(folder)
    os.chdir(os.path.dirname(learner_file))
    sandbox.install_audit_hook(config.get("hidden_dirs", []), config.get("allow_dirs", []))

    box_dir, real_dir = config.get("box_dir"), config.get("real_dir")

    def answer(payload: dict) -> None:
        payload["forbidden"] = dict(watch.seen)
        fault = payload.get("fault")
        if box_dir and real_dir and isinstance(fault, dict):  # name files as the learner knows them
            for key in ("message", "traceback"):
                if isinstance(fault.get(key), str):
                    fault[key] = fault[key].replace(box_dir, real_dir)
        send_frame(sock, wire.dumps(payload))

    def fault_from(exc: BaseException) -> dict:
        if isinstance(exc, LearnerFault):
            return exc.report
        if isinstance(exc, SystemExit):
            return {"type": "SystemExit", "message": f"the code called exit({exc.code!r}) while being graded",
                    "traceback": "", "line": None}
        return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": "", "line": None}

    # Import the learner's file, with the watcher on so import-time calls count too.
    watch.start()
    try:
        name = config.get("module_name") or os.path.splitext(os.path.basename(learner_file))[0]
        spec = importlib.util.spec_from_file_location(name, learner_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 - report anything, including SystemExit
            from dl_course.grading.ops import _fault

            fault = exc if isinstance(exc, SystemExit) else _fault(exc, is_learner_frame)
            answer({"fault": fault_from(fault), "phase": "import"})
            return 0
        namespace = dict(vars(module))
        if config.get("variant"):
            from dl_course.grading.mistakes import namespace_for

            namespace = namespace_for(module, config["variant"])
        executor = Executor(namespace, is_learner_frame)
        answer({"ok": executor.op_kinds(config.get("defines", []))})
        while True:
            try:
                request = wire.loads(recv_frame(sock))
            except (ChannelClosed, OSError):
                return 0
            if request.get("op") == "close":
                return 0
            try:
                result = executor.run(request)
            except BaseException as exc:  # noqa: BLE001 - SystemExit and friends become faults
                answer({"fault": fault_from(exc)})
                continue
            try:
                answer({"ok": result})
            except wire.WireError as exc:
                answer({"fault": {"type": "TypeError", "message": str(exc), "traceback": "", "line": None}})
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    zygote_main(int(sys.argv[1]))
