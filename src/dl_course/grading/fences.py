"""Kernel fences a learner session puts on itself before the learner's code is imported (Linux).

- `own_namespaces()`: new user, PID and mount namespaces for this one session, with a fresh
  /tmp. The session's code runs as PID 1 of its namespace, so when it ends every process it
  started (a `setsid` daemon included) is killed by the kernel, and it can see no other session.
- `landlock(...)`: the filesystem becomes read-only except /tmp; TCP bind/connect are refused;
  signals and abstract unix sockets cannot leave the session (ABI ≥ 6).
- `seccomp()`: ptrace, process_vm_*, mount, bpf, keyctl, namespaces, io_uring, kernel modules
  and the like fail with EPERM.

Each layer is applied where the kernel has it and reported as applied or not; none of them is
trusted alone. Self-contained (standard library only): it runs inside the learner box.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

__all__ = ["landlock_abi", "seccomp_supported", "own_namespaces", "landlock", "seccomp", "rlimits"]

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_PR_SET_PDEATHSIG = 1
_SECCOMP_MODE_FILTER = 2

_SYSCALLS = {
    "x86_64": {"arch": 0xC000003E, "landlock": (444, 445, 446), "clone": 56, "clone3": 435, "deny": [
        101, 310, 311, 165, 166, 155, 321, 250, 248, 249, 272, 308, 246, 320, 175, 313, 176, 298, 323, 304, 303,
        425, 426, 427, 428, 429, 430, 431, 432, 433, 442, 163, 167, 168, 169, 103, 438, 440]},
    "aarch64": {"arch": 0xC00000B7, "landlock": (444, 445, 446), "clone": 220, "clone3": 435, "deny": [
        117, 270, 271, 40, 39, 41, 280, 219, 217, 218, 97, 268, 104, 294, 105, 273, 106, 241, 282, 265, 264,
        425, 426, 427, 428, 429, 430, 431, 432, 433, 442, 89, 224, 225, 142, 116, 438, 440]},
}
_NAMESPACE_FLAGS = 0x10000000 | 0x20000000 | 0x00020000 | 0x04000000 | 0x08000000 | 0x40000000 | 0x02000000


def _arch() -> dict | None:
    return _SYSCALLS.get(platform.machine())


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers (0: none)."""
    arch = _arch()
    if arch is None or not os.path.exists("/proc/self"):
        return 0
    try:
        libc = _libc()
        abi = libc.syscall(arch["landlock"][0], None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(abi), 0)


def seccomp_supported() -> bool:
    arch = _arch()
    if arch is None:
        return False
    try:
        with open("/proc/self/status") as f:
            return any(line.startswith("Seccomp:") for line in f)
    except OSError:
        return False


SCRATCH = "/dl-course-scratch"  # an empty folder the box makes, where a fresh /tmp is built


def _mounts_under(top: str) -> list[str]:
    """The outermost mount points below `top` (in the box: a Python bound under /tmp)."""
    points = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].replace("\\040", " ")
                if point.startswith(top + "/"):
                    points.append(point)
    except (OSError, IndexError):
        return []
    outer = []
    for point in sorted(set(points), key=len):
        if not any(point.startswith(o + "/") for o in outer):
            outer.append(point)
    return outer


def own_namespaces(tmp_bytes: int = 512 * 1024 * 1024) -> bool:
    """New user + PID + mount + IPC namespaces for this process, and a fresh /tmp. The caller must
    fork next: the child is PID 1 of the new namespace. False where the kernel refuses.

    What was mounted below /tmp (a Python installation that lives there) is carried into the
    fresh /tmp: it is built at SCRATCH, the mounts are bound into it, and it is moved onto /tmp."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    keep = _mounts_under("/tmp")
    # NEWUSER | NEWPID | NEWNS | NEWIPC: System V shared memory a session leaves behind dies with
    # it, instead of staying charged to the box's memory for the sessions after it.
    if libc.unshare(0x10000000 | 0x20000000 | 0x00020000 | 0x08000000) != 0:
        return False
    try:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    except OSError:
        pass
    ms_nosuid, ms_nodev, ms_noexec, ms_bind, ms_move, ms_rec = 0x2, 0x4, 0x8, 0x1000, 0x2000, 0x4000
    options = f"size={tmp_bytes},mode=0700,uid={uid},gid={gid}".encode()
    flags = ms_nosuid | ms_noexec | ms_nodev
    if not keep or not os.path.isdir(SCRATCH):
        if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", flags, options) != 0:
            raise OSError(ctypes.get_errno(), "mount a fresh /tmp")
        return True
    if libc.mount(b"tmpfs", SCRATCH.encode(), b"tmpfs", flags, options) != 0:
        raise OSError(ctypes.get_errno(), f"mount a fresh /tmp at {SCRATCH}")
    for point in keep:
        inside = SCRATCH + point[len("/tmp"):]
        if os.path.isdir(point):
            os.makedirs(inside, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            open(inside, "a").close()
        if libc.mount(point.encode(), inside.encode(), None, ms_bind | ms_rec, None) != 0:
            raise OSError(ctypes.get_errno(), f"carry {point} into the fresh /tmp")
    if libc.mount(SCRATCH.encode(), b"/tmp", None, ms_move, None) != 0:
        raise OSError(ctypes.get_errno(), "move the fresh /tmp into place")
    return True


def die_with_parent() -> None:
    import signal

    _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def rlimits(memory_bytes: int | None, file_bytes: int = 256 * 1024 * 1024, processes: int = 512,
            gpu: bool = False) -> None:
    import resource

    from dl_course.grading.sandbox import memory_rlimit

    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_NPROC, processes)]
    if memory_bytes:
        limits.append((getattr(resource, memory_rlimit(gpu)), memory_bytes))
    cap(limits)


def cap(limits: list[tuple[int, int]]) -> None:
    """Set each (rlimit, value) as both soft and hard limit, never above a hard limit already set."""
    import resource

    for which, value in limits:
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def landlock(writable: tuple[str, ...] = ("/tmp",), devices: tuple[str, ...] = ("/dev",)) -> int:
    """Restrict this process (and what it starts) to reading, writing only under `writable`.
    Returns the ABI applied (0 when the kernel has no Landlock)."""
    abi = landlock_abi()
    if abi <= 0:
        return 0
    arch = _arch()
    create, add_rule, restrict = arch["landlock"]
    read = 1 | 4 | 8  # execute, read file, read dir
    write = 2 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048 | 4096
    if abi >= 2:
        write |= 8192  # refer
    if abi >= 3:
        write |= 16384  # truncate
    ioctl = 32768 if abi >= 5 else 0
    handled_fs = read | write | ioctl
    handled_net = (1 | 2) if abi >= 4 else 0
    scoped = (1 | 2) if abi >= 6 else 0
    fields = [handled_fs, handled_net, scoped][: 1 + (abi >= 4) + (abi >= 6)]
    attr = struct.pack(f"{len(fields)}Q", *fields)
    libc = _libc()
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = libc.syscall(create, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if fd < 0:
        return 0
    try:
        def allow(path: str, access: int) -> None:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                return
            try:
                rule = ctypes.create_string_buffer(struct.pack("=Qi", access, pfd), 12)
                libc.syscall(add_rule, ctypes.c_int(fd), ctypes.c_int(1), rule, ctypes.c_uint32(0))
            finally:
                os.close(pfd)

        allow("/", read)
        for path in writable:
            allow(path, read | write)
        for path in devices:
            allow(path, read | 2 | ioctl)  # /dev/null, /dev/nvidia*: write and ioctl, no new nodes
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if libc.syscall(restrict, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            return 0
    finally:
        os.close(fd)
    return abi


def seccomp() -> bool:
    """Refuse the syscalls a learner's code has no use for (EPERM). True when installed."""
    arch = _arch()
    if arch is None:
        return False

    def stmt(code: int, k: int) -> bytes:
        return struct.pack("HBBI", code, 0, 0, k)

    def jump(code: int, k: int, jt: int, jf: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    ld_w_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm = 0x00050000 | errno.EPERM
    enosys = 0x00050000 | errno.ENOSYS
    prog = [stmt(ld_w_abs, 4), jump(jeq, arch["arch"], 1, 0), stmt(ret, kill), stmt(ld_w_abs, 0)]
    if platform.machine() == "x86_64":
        prog += [jump(jge, 0x40000000, 0, 1), stmt(ret, eperm)]  # the x32 ABI: never needed
    # clone3 hides its flags in memory: ENOSYS makes the C library fall back to clone, whose
    # flags can be read (a thread or a fork is fine; new namespaces are not).
    prog += [jump(jeq, arch["clone3"], 0, 1), stmt(ret, enosys)]
    prog += [jump(jeq, arch["clone"], 0, 3), stmt(ld_w_abs, 16), jump(jset, _NAMESPACE_FLAGS, 0, 1), stmt(ret, eperm),
             stmt(ld_w_abs, 0)]
    for nr in arch["deny"]:
        prog += [jump(jeq, nr, 0, 1), stmt(ret, eperm)]
    prog.append(stmt(ret, allow))
    code = b"".join(prog)
    filters = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("HxxxxxxP", len(prog), ctypes.addressof(filters))
    libc = _libc()
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    fprog_buf = ctypes.create_string_buffer(fprog, len(fprog))
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog_buf, 0, 0) == 0
