"""Targets: what a hidden suite drives. The learner's code (remote) and the reference or a known
mistake (local) answer the same operations, so one probe runs against all of them.

    def probe(t, c):                         # t: a Target, c: a CaseRun
        cell = t.new("GRUCell", c.f, c.h)
        t.load_state(cell, c.state_of(torch.nn.GRUCell, c.f, c.h))
        t.to(cell, c.device, c.dtype)
        return t.forward(cell, c.randn(c.n, c.f), grads=c.seed, names=("x",))
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dl_course.grading import wire
from dl_course.grading.ops import Executor, LearnerFault
from dl_course.grading.session import Session, SessionDied

__all__ = ["Target", "LocalTarget", "RemoteTarget", "Handle", "Run", "LearnerFault", "SessionDied",
           "load_module"]


@dataclass(frozen=True)
class Handle:
    """An object living in a target (a module the probe built)."""

    id: int
    info: dict

    def __wire__(self) -> dict:
        return {"__handle__": self.id}

    @property
    def parameters(self) -> dict:
        return self.info.get("parameters", {})

    @property
    def buffers(self) -> dict:
        return self.info.get("buffers", {})


class Run(dict):
    """What one call gave back: `output` and, when asked, `grads`; `names` labels the inputs."""


class Target:
    """The operations a probe may use. Subclasses only say how a request travels."""

    label = "target"

    def __init__(self) -> None:
        self._next = 0
        self.elsewhere = False
        """When set, calls run with tensors created without a device landing elsewhere (ops.Elsewhere)."""
        self.grad_at: tuple[int, int] | None = None
        """When set, backward passes only from this (dim, index) of each output (causality checks)."""
        self.loose: dict[str, list[str]] = {}
        """Plain tensor attributes seen on the modules built so far, by class name."""

    def _send(self, request: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _op(self, op: str, **fields: Any) -> Any:
        request = {"op": op, **{k: wire.encode(v, k) for k, v in fields.items()}}
        return self._send(request)

    def kinds(self, names: list[str]) -> dict[str, str]:
        return self._op("kinds", names=list(names))

    def new(self, name: str, *args: Any, **kwargs: Any) -> Handle:
        self._next += 1
        info = wire.decode(self._op("new", name=name, handle=self._next, args=args, kwargs=kwargs))
        if isinstance(info, dict) and info.get("loose_tensors"):
            self.loose[name] = list(info["loose_tensors"])
        return Handle(self._next, info)

    def load_state(self, handle: Handle, state: dict, strict: bool = True, all_buffers: bool = False) -> None:
        """Load a state dict; with `all_buffers`, also into buffers registered with persistent=False."""
        self._op("load_state", handle=handle.id, state=state, strict=strict, all_buffers=all_buffers)

    def state(self, handle: Handle) -> dict:
        return wire.decode(self._op("state", handle=handle.id), "state")

    def to(self, handle: Handle, device: str | None = None, dtype: Any = None) -> None:
        self._op("to", handle=handle.id, device=device, dtype=dtype)

    def train(self, handle: Handle, mode: bool = True) -> None:
        self._op("mode", handle=handle.id, train=mode)

    def train_steps(self, handle: Handle, data: str, steps: int, batch: int, lr: float, seed: int,
                    start: int = 0, loss: str = "mse") -> list[float]:
        """Train the module for `steps` steps with `loss` (a name, see ops.Executor.op_train); returns the losses."""
        losses = wire.decode(self._op("train", handle=handle.id, data=data, steps=steps, batch=batch, lr=lr,
                                      seed=seed, start=start, loss=loss), "losses")
        return [float(x) for x in losses] if isinstance(losses, list) else []

    def seed(self, seed: int) -> None:
        self._op("seed", seed=seed)

    def call(self, fn: str | Handle, *args: Any, grads: int | None = None, method: str | None = None,
             names: tuple[str, ...] = (), **kwargs: Any) -> Run:
        """Call a name or a module; with `grads=SEED`, backpropagate a random upstream gradient."""
        tree = self._op("call", fn=fn, args=args, kwargs=kwargs, grads=grads, method=method, elsewhere=self.elsewhere,
                        grad_at=list(self.grad_at) if self.grad_at and grads is not None else None)
        run = Run(wire.decode(tree))
        run["names"] = tuple(names)
        return run

    forward = call


def same_bytes(data: bytes, digest: str | None, role: str, exercise_id: str) -> None:
    """Refuse pack code that is not the bytes the CLI read when it made the job (`digest`, a
    sha256; None: no expectation)."""
    import hashlib

    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise RuntimeError(f"the course pack's {role} of {exercise_id} changed on disk while it was being "
                           "graded; nothing was graded against it (grade again)")


def load_module(path: Path, name: str, source: bytes | None = None) -> Any:
    """Import the module at `path` as `name`; from `source` (its bytes, already read) when given,
    so what runs is exactly what was read."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if source is None:
        spec.loader.exec_module(module)
    else:
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - trusted pack code
    return module


class LocalTarget(Target):
    """Trusted code (the reference, a known mistake) run inside the judge."""

    def __init__(self, namespace: dict[str, Any], label: str):
        super().__init__()
        # A fault of the pack's own code names its lines (those of the module's folder), so an
        # author reads where their reference or mistake raised.
        file = namespace.get("__file__")
        home = os.path.dirname(os.path.realpath(file)) + os.sep if isinstance(file, str) else None
        self.executor = Executor(namespace, (lambda f: os.path.realpath(f).startswith(home)) if home
                                 else (lambda f: False))
        self.label = label

    def _send(self, request: dict[str, Any]) -> Any:
        # The same encoding round trip as the remote side, so all targets see identical inputs.
        return self.executor.run(request)


class RemoteTarget(Target):
    """The learner's code, in its own process, behind a session."""

    label = "your code"

    def __init__(self, session: Session):
        super().__init__()
        self.session = session
        self.forbidden: dict[str, str] = {}

    def _send(self, request: dict[str, Any]) -> Any:
        self.session.send(wire.dumps(request))
        return self.answer(request["op"])

    def answer(self, op: str = "kinds") -> Any:
        """The learner's answer to `op`, checked by the judge (see `answers`) before anything uses it."""
        try:
            reply = wire.loads(self.session.receive())
        except wire.WireError as e:
            raise LearnerFault({"type": "WireError", "message": str(e), "traceback": "", "line": None}) from None
        if not isinstance(reply, dict):
            raise LearnerFault({"type": "WireError", "message": "malformed answer", "traceback": "", "line": None})
        from dl_course.grading.answers import BadAnswer, plain_fault, validate

        forbidden = reply.get("forbidden")
        if isinstance(forbidden, dict):  # a claim against itself only; kept short and plain
            self.forbidden.update({k[:200]: v[:200] for k, v in list(forbidden.items())[:50]
                                   if isinstance(k, str) and isinstance(v, str)})
        if "fault" in reply:
            raise LearnerFault(plain_fault(reply["fault"]))

        try:
            return validate(op, reply.get("ok"))
        except BadAnswer as e:
            raise LearnerFault({"type": "BadAnswer", "message": f"the answer from your code was refused: {e}",
                                "traceback": "", "line": None}) from None
