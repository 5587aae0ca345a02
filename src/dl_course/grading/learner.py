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

    import dl_course.grading.ops  # noqa: F401
    import dl_course.grading.sandbox  # noqa: F401
    import dl_course.grading.wire  # noqa: F401

    _send_json(control, {"event": "ready"})
    while True:
        config, fds = _recv_control(control)
        if config is None:
            return
        session_fd, output_fd = fds
        pid = os.fork()
        if pid == 0:  # the child: never returns
            # Its own process group: code that signals "its whole group" (kill(0, …) through
            # ctypes, past the audit hook) reaches only itself and what it forked, never the
            # zygote; and the group is what is killed when the session ends.
            os.setpgid(0, 0)
            control.close()
            code = 70
            try:
                code = _session(config, socket.socket(fileno=session_fd), output_fd)
            finally:
                os._exit(code)
        try:
            os.setpgid(pid, pid)  # also here, so the group exists before either side goes on
        except OSError:
            pass  # the child got there first (or is already gone)
        os.close(session_fd)
        os.close(output_fd)
        _send_json(control, {"event": "started", "pid": pid})
        _, status = os.waitpid(pid, 0)
        try:
            os.killpg(pid, signal.SIGKILL)  # whatever the session forked dies with it
        except OSError:
            pass
        if os.WIFSIGNALED(status):
            _send_json(control, {"event": "exited", "signal": os.WTERMSIG(status), "status": None})
        else:
            _send_json(control, {"event": "exited", "signal": None, "status": os.WEXITSTATUS(status)})


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
    sandbox.apply_limits(config.get("memory_bytes"))
    watch = sandbox.ApiWatch(config.get("forbid", []), is_learner_frame)
    for folder in config.get("sys_path", []):
        sys.path.append(folder)
    os.chdir(os.path.dirname(learner_file))
    sandbox.install_audit_hook(config.get("hidden_dirs", []), config.get("allow_dirs", []))

    def answer(payload: dict) -> None:
        payload["forbidden"] = dict(watch.seen)
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
