"""A control group around each learner box, where this machine lets the grader make one (Linux).

Rlimits bound one process at a time; a control group bounds the box as a whole, whatever its
processes do and whatever uid they run as:
- `memory`: every page the box's processes use, counted once (resident memory, not address
  space, so CUDA's large host reservations do not trip it). When the box goes over, the kernel's
  OOM killer ends the biggest process in it, which is the session, and the judge can tell from
  the group's `oom_kill` count that memory was the reason.
- `pids`: every process and thread in the box (a fork bomb stops here even as root, where
  RLIMIT_NPROC does not bind).
- `cpu` (where that controller is there too): the box is one entity for the scheduler, weighed
  like one process of its parent group (a judge, another box), however many processes it starts:
  a submission that spins up a hundred processes cannot starve the other judges of a class. A
  share, not a quota: an idle machine still gives the box all it asks for (a quota throttled
  honest work and cost a class 10%). Time limits are the sessions' own (see session.WALL_FACTOR).

Two ways in, tried in this order:
- cgroup v2 where the grader's own group is delegated to it: `memory` and `pids` are enabled for
  its children (`cgroup.subtree_control`) and the folder is writable. A child group is made there.
- cgroup v1 hierarchies for `memory` and `pids` that the grader may write (root in a container
  with a writable /sys/fs/cgroup, as here): a group in each.
Otherwise `create()` returns None and says why; the rlimits still hold. The box itself never
sees the cgroup file system, so learner code cannot move out of its group or raise its limits.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

__all__ = ["Group", "create", "why_not"]

_PREFIX = "dl-course-"
_made = 0


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root inside the hierarchy, file system type, options) of cgroup mounts."""
    out = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                parts, after = left.split(), right.split()
                if len(parts) < 5 or len(after) < 3 or after[0] not in ("cgroup", "cgroup2"):
                    continue
                out.append((parts[4].replace("\\040", " "), parts[3], after[0], set(after[2].split(","))))
    except OSError:
        return []
    return out


def _own_paths() -> dict[str, str]:
    """This process's group in each hierarchy: controller (or "" for v2) -> path."""
    paths: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    paths[c] = path
    except (OSError, ValueError):
        pass
    return paths


def _inside(mount: str, root: str, path: str) -> str:
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):] or "/"
    return os.path.join(mount, path.lstrip("/"))


def _sweep(parent: str) -> None:
    """Remove empty groups left by graders that died (their pid is gone)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(_PREFIX):
            continue
        try:
            pid = int(name[len(_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            try:
                os.rmdir(os.path.join(parent, name))
            except OSError:
                pass


@dataclass
class Group:
    """The group(s) one box runs in: one folder in v2, one per controller in v1."""

    version: int
    folders: list[str]
    memory_bytes: int
    pids: int
    cpu_shared: bool = False
    """Whether the box is one entity of the cpu scheduler (see the module doc)."""

    @property
    def _procs(self) -> list[str]:
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

    def join(self) -> None:
        """Move the calling process into the group (in the box's child, before it execs)."""
        for procs in self._procs:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

    def oom_kills(self) -> int:
        """How many processes of the box the kernel has killed for memory so far."""
        for folder in self.folders:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    with open(os.path.join(folder, name)) as f:
                        for line in f:
                            key, _, value = line.partition(" ")
                            if key == "oom_kill":
                                return int(value)
                except (OSError, ValueError):
                    continue
        return 0

    def describe(self) -> str:
        """What the group bounds, in a few words."""
        cpu = ", processor time shared as one process's, however many it starts" if self.cpu_shared else ""
        return f"cgroup v{self.version}: memory {self.memory_bytes / 1024**3:g} GiB, {self.pids} processes{cpu}"

    def remove(self) -> None:
        """End whatever still runs in the group, then remove its folders as soon as the kernel
        has let the processes go (a few milliseconds; given up after a second, and swept by a
        later grader)."""
        import signal

        for procs in self._procs:
            try:
                with open(procs) as f:
                    pids = [int(line) for line in f if line.strip()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        give_up = time.monotonic() + 1.0
        for folder in self.folders:
            while True:
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > give_up:
                        break
                    time.sleep(0.002)


def _write(folder: str, name: str, value: str) -> bool:
    try:
        with open(os.path.join(folder, name), "w") as f:
            f.write(value)
        return True
    except OSError:
        return False


def _make(parent: str) -> str:
    global _made
    _made += 1
    folder = os.path.join(parent, f"{_PREFIX}{os.getpid()}-{_made}")
    os.mkdir(folder)
    return folder


def _v2(mount: str, root: str, own: str, memory_bytes: int, pids: int) -> Group | str:
    parent = _inside(mount, root, own)
    try:
        with open(os.path.join(parent, "cgroup.subtree_control")) as f:
            enabled = set(f.read().split())
    except OSError as e:
        return f"cgroup v2 group {parent} cannot be read ({e.strerror})"
    if not {"memory", "pids"} <= enabled:
        return f"cgroup v2: memory and pids are not delegated to {parent} (cgroup.subtree_control: " \
               f"{' '.join(sorted(enabled)) or 'empty'})"
    if not os.access(parent, os.W_OK):
        return f"cgroup v2: {parent} is not writable"
    _sweep(parent)
    try:
        folder = _make(parent)
    except OSError as e:
        return f"cgroup v2: cannot make a group in {parent} ({e.strerror})"
    if not (_write(folder, "memory.max", str(memory_bytes)) and _write(folder, "pids.max", str(pids))):
        os.rmdir(folder)
        return f"cgroup v2: cannot set limits in {folder}"
    _write(folder, "memory.swap.max", "0")
    # With cpu enabled for children, the new group is one entity of the scheduler (default weight).
    return Group(2, [folder], memory_bytes, pids, "cpu" in enabled)


def _v1(mounts: dict[str, tuple[str, str]], own: dict[str, str], memory_bytes: int, pids: int) -> Group | str:
    made: list[str] = []

    def undo(why: str) -> str:
        for folder in reversed(made):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        return why

    for controller in ("memory", "pids"):
        if controller not in mounts or controller not in own:
            return undo(f"cgroup v1: no {controller} hierarchy")
        parent = _inside(*mounts[controller], own[controller])
        if not os.access(parent, os.W_OK):
            return undo(f"cgroup v1: {parent} is not writable")
        _sweep(parent)
        try:
            made.append(_make(parent))
        except OSError as e:
            return undo(f"cgroup v1: cannot make a group in {parent} ({e.strerror})")
    memory, tasks = made
    if not _write(memory, "memory.limit_in_bytes", str(memory_bytes)):
        return undo(f"cgroup v1: cannot set memory.limit_in_bytes in {memory}")
    _write(memory, "memory.memsw.limit_in_bytes", str(memory_bytes))  # no way around it through swap
    if not _write(tasks, "pids.max", str(pids)):
        return undo(f"cgroup v1: cannot set pids.max in {tasks}")
    shared = False
    if "cpu" in mounts and "cpu" in own:  # optional: memory and pids hold without it
        parent = _inside(*mounts["cpu"], own["cpu"])
        if os.access(parent, os.W_OK):
            _sweep(parent)
            try:
                folder = _make(parent)
            except OSError:
                folder = None
            if folder and _write(folder, "cpu.shares", "1024"):  # one process's weight
                made.append(folder)
                shared = True
            elif folder:
                os.rmdir(folder)
    return Group(1, made, memory_bytes, pids, shared)


_why_not = "not tried yet"


def create(memory_bytes: int, pids: int = 1024) -> Group | None:
    """A fresh group with these limits, or None (see `why_not()`)."""
    global _why_not
    if os.environ.get("DL_COURSE_NO_CGROUP"):
        _why_not = "DL_COURSE_NO_CGROUP is set"
        return None
    mounts, own = _mounts(), _own_paths()
    v2 = [(m, r) for m, r, kind, _ in mounts if kind == "cgroup2"]
    v1 = {c: (m, r) for m, r, kind, opts in mounts if kind == "cgroup" for c in ("memory", "pids", "cpu")
          if c in opts}
    reasons = []
    if v2 and "" in own:
        made = _v2(*v2[0], own[""], memory_bytes, pids)
        if isinstance(made, Group):
            return made
        reasons.append(made)
    if v1:
        made = _v1(v1, own, memory_bytes, pids)
        if isinstance(made, Group):
            return made
        reasons.append(made)
    _why_not = "; ".join(reasons) or "no cgroup file system is mounted"
    return None


def why_not() -> str:
    """Why the last `create()` gave no group."""
    return _why_not
