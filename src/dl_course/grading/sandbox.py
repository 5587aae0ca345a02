"""Guards installed inside the learner process before the learner's code is imported.

- an audit hook (which cannot be removed) refuses to read the pack's hidden folders, to look at
  other processes through /proc, to connect sockets, to start or signal processes;
- resource limits cap memory (where the OS allows) and forbid core dumps;
- an API watcher records calls the exercise forbids, whichever Python route reached them.

These run in the learner's own process, so they are a fence, not the verdict: the verdict is
decided in the judge from plain data.
"""

from __future__ import annotations

import math
import os
import sys
import traceback
from typing import Any, Callable

__all__ = ["install_audit_hook", "apply_limits", "ApiWatch"]

_BLOCKED_EVENTS = {
    "socket.connect": "opening network connections",
    "socket.bind": "opening network connections",
    "os.system": "starting other programs",
    "subprocess.Popen": "starting other programs",
    "os.exec": "starting other programs",
    "os.posix_spawn": "starting other programs",
    "os.spawn": "starting other programs",
    "pty.spawn": "starting other programs",
    "os.fork": "starting other processes",
    "os.forkpty": "starting other processes",
    "os.kill": "signalling other processes",
    "os.killpg": "signalling other processes",
}


def install_audit_hook(hidden_dirs: list[str], allow_dirs: list[str] = ()) -> None:
    """Refuse, from now on in this process, what a learner's code has no business doing.

    Paths under `allow_dirs` (the learner's own folder) may be read even inside a hidden folder
    (a class's staging area, which holds every student's files)."""
    hidden = tuple(os.path.realpath(d) + os.sep for d in hidden_dirs)
    allowed = tuple(os.path.realpath(d) + os.sep for d in allow_dirs)
    own_proc = (f"/proc/{os.getpid()}/", "/proc/self/", "/proc/thread-self/")
    busy = [False]

    def refuse(what: str) -> None:
        raise PermissionError(f"dl-course: {what} is not allowed while grading")

    def check_path(path: Any) -> None:
        if isinstance(path, int):
            return
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return
        real = os.path.realpath(path) + os.sep
        if real.startswith(hidden) and not (allowed and real.startswith(allowed)):
            refuse("reading the course's hidden tests or reference solutions")
        if real.startswith("/proc/") and not real.startswith(own_proc):
            parts = real.split("/")
            if len(parts) > 2 and parts[2].isdigit():
                refuse("looking at other processes")

    def hook(event: str, args: tuple) -> None:
        if busy[0]:
            return
        if event in _BLOCKED_EVENTS:
            refuse(_BLOCKED_EVENTS[event])
        if event in ("open", "os.listdir", "os.scandir", "shutil.copyfile", "os.rename", "os.remove") and args:
            busy[0] = True
            try:
                check_path(args[0])
            finally:
                busy[0] = False

    sys.addaudithook(hook)


def memory_rlimit(gpu: bool) -> str:
    """Which rlimit bounds the learner's memory: the address space (RLIMIT_AS) on the CPU, but the
    data segment (RLIMIT_DATA: private writable memory) when it may use a GPU, because the CUDA
    driver reserves host address space of about twice the GPU's memory (inaccessible, so not
    data) and fails to start under an address-space limit below that."""
    return "RLIMIT_DATA" if gpu else "RLIMIT_AS"


def apply_limits(memory_bytes: int | None, gpu: bool = False, cpu_seconds: float | None = None) -> None:
    """No core files; the memory cap; and the session's processor-time budget (RLIMIT_CPU, soft and
    hard alike: SIGKILL when it is spent, which no code can catch, and which also reaches a
    session that is PID 1 of its namespace, where SIGXCPU would be ignored). The budget counts
    processor time, not wall-clock time, so a machine busy with other work does not fail code
    that would finish in time on an idle one."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cpu_seconds:
        seconds = max(1, math.ceil(cpu_seconds))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            seconds = min(seconds, hard)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
        except (ValueError, OSError):
            pass
    if memory_bytes:
        try:
            which = getattr(resource, memory_rlimit(gpu))
            resource.setrlimit(which, (memory_bytes, memory_bytes))
        except (ValueError, OSError):
            pass


# A forbidden name stands for its whole family of aten ops: forbidding `torch.nn.GRUCell` also
# forbids `aten::gru`, `aten::_thnn_fused_gru_cell`, `aten::quantized_gru_cell`, … however reached.
_FAMILIES = (
    (("gru",), ("gru",)),
    (("lstm",), ("lstm",)),
    (("rnn",), ("rnn_tanh", "rnn_relu")),
    (("scaled_dot_product",), ("scaled_dot_product",)),
    (("multiheadattention", "multi_head_attention"), ("multi_head_attention", "transformer_encoder_layer")),
    (("transformer",), ("transformer_encoder_layer", "multi_head_attention", "transformer_decoder")),
    (("layer_norm", "layernorm"), ("layer_norm",)),
    # Any of these computes a layer norm once the input is reshaped: an exercise that forbids them
    # fences their kernels too.
    (("group_norm", "groupnorm"), ("group_norm",)),
    (("batch_norm", "batchnorm"), ("batch_norm",)),
    (("instance_norm", "instancenorm"), ("instance_norm",)),
    (("rms_norm", "rmsnorm"), ("rms_norm",)),
)


_RECURRENT = ("gru", "lstm", "rnn")


def op_families(forbidden: list[str]) -> tuple[str, ...]:
    """The aten op-name fragments that the forbidden names stand for. A recurrent layer (`nn.GRU`)
    stands for its layer ops only, written `gru!cell`: the exercise that forbids the layer may
    well hand the learner its cell (`nn.GRUCell`, `aten::gru_cell`) to run over a sequence."""
    out: list[str] = []
    for name in forbidden:
        last = name.rsplit(".", 1)[-1].lower() if not name.startswith("torch.ops.") else name.split(".")[3].lower()
        for keys, fragments in _FAMILIES:
            if any(k in last for k in keys):
                layer_only = keys[0] in _RECURRENT and "cell" not in last
                out += [f for f in (f"{f}!cell" if layer_only else f for f in fragments) if f not in out]
    return tuple(out)


def in_family(op: str, fragments: tuple[str, ...]) -> bool:
    """Whether the aten op (its name without overload) belongs to one of these families."""
    for fragment in fragments:
        part, _, unless = fragment.partition("!")
        if part in op and not (unless and unless in op):
            return True
    return False


def forbid_at_dispatcher(fragments: tuple[str, ...]) -> list[str]:
    """Make every aten op of these families raise, for the rest of this process, whichever Python
    route reaches it (a popped torch-function mode, DisableTorchFunction, torch.ops, a module).
    Returns the ops so fenced."""
    if not fragments:
        return []
    import warnings

    import torch
    from torch.library import Library

    global _LIBRARY
    _LIBRARY = Library("aten", "IMPL")  # kept for the life of the process
    has = torch._C._dispatch_has_kernel_for_dispatch_key
    fenced = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
        for full in torch._C._dispatch_get_all_op_names():
            if not full.startswith("aten::"):
                continue
            qualified = full[len("aten::"):]
            if not in_family(qualified.split(".")[0], fragments):
                continue

            def refuse(*args, _op=qualified, **kwargs):
                raise RuntimeError(f"dl-course: torch.ops.aten.{_op} is forbidden in this exercise: build it from "
                                   "basic tensor operations instead")

            for key in ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "CPU", "CUDA", "Meta"):
                if has(full, key):
                    try:
                        _LIBRARY.impl(qualified, refuse, key)
                        fenced.append(qualified)
                    except RuntimeError:
                        pass
    return fenced


_LIBRARY = None


class ApiWatch:
    """Records calls to forbidden functions and modules, with the learner's line that made them."""

    def __init__(self, forbidden: list[str], is_learner_frame: Callable[[str], bool]):
        import torch
        from torch.overrides import TorchFunctionMode, resolve_name

        self.seen: dict[str, str] = {}
        self.is_learner_frame = is_learner_frame
        functions, modules = set(), []
        for name in forbidden:
            obj = _resolve(name)
            if isinstance(obj, type) and issubclass(obj, torch.nn.Module):
                modules.append((name, obj))
            else:
                functions.add(name)
                if obj is not None:
                    functions.add(resolve_name(obj) or name)
        self.functions = functions
        # Any route to a forbidden function: `torch.gru_cell` forbidden also forbids the aten op
        # of that name, however it is reached (`torch.ops.aten.gru_cell`, `.default`, …).
        self.aten = {name.rsplit(".", 1)[-1] for name in functions if not name.startswith(("aten.", "torch.ops."))}
        self.families = op_families(list(forbidden))
        # Modules of the same name elsewhere in torch (torch.ao.nn.quantizable.LSTMCell for torch.nn.LSTMCell).
        module_names = {cls.__name__ for _, cls in modules}
        watch = self

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if watch.functions:
                    name = resolve_name(func)
                    if name in watch.functions:
                        watch.record(name)
                    else:
                        op = _aten_name(func)
                        if op is not None and (op in watch.aten or in_family(op, watch.families)):
                            watch.record(f"torch.ops.aten.{op}")
                return func(*args, **(kwargs or {}))

        self.mode = Mode()
        if modules:
            def pre_hook(module, inputs):
                for name, cls in modules:
                    if isinstance(module, cls):
                        watch.record(name)
                kind = type(module)
                if kind.__name__ in module_names and kind.__module__.startswith("torch."):
                    watch.record(f"{kind.__module__}.{kind.__name__}")

            torch.nn.modules.module.register_module_forward_pre_hook(pre_hook)

    def record(self, name: str) -> None:
        if name in self.seen:
            return
        where = ""
        for frame in reversed(traceback.extract_stack()):
            if self.is_learner_frame(frame.filename):
                where = f"line {frame.lineno}"
                break
        self.seen[name] = where

    def start(self) -> None:
        self.mode.__enter__()
        # The second layer, which learner code cannot switch off from Python: the ops raise.
        forbid_at_dispatcher(self.families)


def _aten_name(func: Any) -> str | None:
    """`gru_cell` for `torch.ops.aten.gru_cell` and its overloads; None for anything else."""
    qualified = getattr(func, "_qualified_op_name", None)  # an OpOverloadPacket
    if qualified is None:
        qualified = getattr(getattr(func, "_schema", None), "name", None)  # an OpOverload
    if isinstance(qualified, str) and qualified.startswith("aten::"):
        return qualified[len("aten::"):]
    return None


def _resolve(dotted: str) -> Any:
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None
