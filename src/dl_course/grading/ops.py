"""The operations a hidden suite can ask of an implementation, and the code that performs them.

The same `Executor` runs the learner's code (inside the learner process, behind the channel)
and the reference or a known mistake (inside the judge): so all three are driven identically.

An operation is a plain dict: {"op": NAME, ...}. Results are `wire.encode`d trees.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

import torch

from dl_course.grading.wire import encode

__all__ = ["Executor", "LearnerFault", "upstream_like", "materialize"]


class LearnerFault(Exception):
    """The implementation under test raised; carries a report safe to show."""

    def __init__(self, report: dict[str, Any]):
        super().__init__(report.get("message", ""))
        self.report = report


def upstream_like(t: torch.Tensor, seed: int) -> torch.Tensor:
    """The random upstream gradient for one output, the same in every process for a seed."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(t.shape), generator=g, dtype=torch.float64, device="cpu").to(t.dtype).to(t.device)


def materialize(tree: Any, handles: dict[int, Any]) -> Any:
    """Turn an encoded request tree back into live objects (tensors on their device, handles)."""
    if isinstance(tree, dict):
        if tree.get("__tensor__") is True:
            dtype = getattr(torch, tree["dtype"].replace("torch.", ""))
            if tree["device"] == "meta" or tree["values"] is None:
                return torch.empty(tuple(tree["shape"]), dtype=dtype, device=tree["device"])
            return tree["values"].to(tree["device"])
        if "__handle__" in tree:
            return handles[tree["__handle__"]]
        if "__seq__" in tree:
            items = [materialize(v, handles) for v in tree["items"]]
            return tuple(items) if tree["__seq__"] == "tuple" else items
        if "__dict__" in tree:
            return {k: materialize(v, handles) for k, v in tree["__dict__"].items()}
        if "__dtype__" in tree:
            return getattr(torch, tree["__dtype__"].replace("torch.", ""))
        if "__device__" in tree:
            return torch.device(tree["__device__"])
    return tree


class Elsewhere:
    """While active, the inputs stand in for tensors on a GPU, and tensors made without a device
    are "host" tensors (on the CPU, as `torch.zeros(n)` is when the inputs live on `cuda`).

    Everything stays a real CPU tensor, so values can be compared. A host tensor is tagged, and the
    tag follows what is computed from host tensors alone. Mixing a host tensor that is not a 0-dim
    scalar with a tensor on the inputs' side raises the error a GPU raises. `.to(x.device)`,
    `.to(x)`, `.type_as(x)`, `.cuda()` and any explicit `device=` re-home a tensor, as on a GPU;
    `x.new_*` and `*_like(x)` follow x. Plain tensor attributes of the modules passed in
    (`loose_from`) start as host tensors, as `module.to(device)` leaves them behind on a GPU.
    An explicit `device="cpu"` cannot be told from `device=x.device` here: it counts as following
    the inputs (a real GPU run tells them apart).
    """

    _MOVES = {"to", "type_as", "cuda"}
    _TO_HOST = {"cpu", "numpy"}
    _INDEXING = {"__getitem__", "__setitem__", "copy_", "index_select", "__index__", "__len__", "__iter__",
                 "__format__", "__repr__", "__bool__", "__float__", "__int__", "item", "tolist", "size", "dim",
                 "numel", "__get__", "stride", "is_contiguous", "data_ptr", "element_size"}
    # Ops that take a CPU tensor beside GPU ones on a real GPU too: packing wants its lengths on the
    # CPU (`pack_padded_sequence(x, lengths.cpu(), ...)` is what the PyTorch documentation asks for).
    _CPU_SIDE = {"_pack_padded_sequence"}

    def __init__(self, loose_from: list[Any] | None = None) -> None:
        from torch.overrides import TorchFunctionMode
        from torch.utils._device import _device_constructors
        from torch.utils._pytree import tree_flatten

        constructors = _device_constructors() | {torch.from_numpy}
        scalar_makers = {torch.tensor, torch.as_tensor, torch.scalar_tensor}
        token = object()
        self.token = token

        def is_host(t: Any) -> bool:
            return isinstance(t, torch.Tensor) and getattr(t, "_dl_course_host", None) is token

        def tag(tree: Any) -> Any:
            for t in tree_flatten(tree)[0]:
                if isinstance(t, torch.Tensor) and not isinstance(t, torch.nn.Parameter):
                    try:
                        t._dl_course_host = token
                    except (AttributeError, RuntimeError):
                        pass
            return tree

        def untagged(result: Any, source: Any) -> Any:
            """`result` of a move; a fresh alias when the move returned its own (tagged) input."""
            if isinstance(result, torch.Tensor) and is_host(result):
                result = result.view_as(result) if result is source else result
                if is_host(result):
                    del result._dl_course_host
            return result

        def name_of(func: Any) -> str:
            return getattr(func, "__name__", "") or str(func)

        self.is_host, self.tag = is_host, tag

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = dict(kwargs or {})
                name = name_of(func)
                if func in constructors and kwargs.get("device") is None:
                    scalar = func in scalar_makers and args and isinstance(args[0], (bool, int, float))
                    out = func(*args, **kwargs)
                    return out if scalar else tag(out)
                if name in Elsewhere._MOVES:
                    out = func(*args, **kwargs)
                    moved = name != "to" or _moves_device(args[1:], kwargs)
                    if moved:
                        return untagged(out, args[0] if args else None)
                    return tag(out) if args and is_host(args[0]) else out
                if name in Elsewhere._TO_HOST:
                    return tag(func(*args, **kwargs))
                tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
                host = [t for t in tensors if is_host(t)]
                if not host or name in Elsewhere._INDEXING or name in Elsewhere._CPU_SIDE:
                    out = func(*args, **kwargs)
                    if host and name == "__getitem__" and args and is_host(args[0]):
                        tag(out)
                    return out
                inputs_side = [t for t in tensors if not is_host(t)]
                if inputs_side:
                    if any(t.dim() > 0 for t in host) and any(t.dim() > 0 for t in inputs_side):
                        raise RuntimeError(
                            "Expected all tensors to be on the same device, but found at least two devices, "
                            f"cuda:0 and cpu! (in {name}: a tensor made without device= stays on the CPU while "
                            "the inputs are on the GPU; this is dl-course's stand-in for a GPU)")
                    return func(*args, **kwargs)  # 0-dim CPU tensors mix with any device
                return tag(func(*args, **kwargs))

        self.mode = Mode()
        self.loose_from = list(loose_from or [])

    def __enter__(self):
        for obj in self.loose_from:
            for path in loose_tensors(obj):
                holder = obj
                *parents, attr = path.split(".")
                for part in parents:
                    holder = getattr(holder, part)
                self.tag(getattr(holder, attr))
        return self.mode.__enter__()

    def __exit__(self, *exc):
        return self.mode.__exit__(*exc)

    def host_as_meta(self, tree: Any) -> Any:
        """The call's output with every host tensor replaced by an empty one on `meta`: on a GPU it
        would have stayed on the CPU, away from the inputs (the judge sees that it has no values)."""
        if isinstance(tree, torch.Tensor):
            return torch.empty(tuple(tree.shape), dtype=tree.dtype, device="meta") if self.is_host(tree) else tree
        if type(tree) in (tuple, list):
            return type(tree)(self.host_as_meta(v) for v in tree)
        if type(tree) is dict:
            return {k: self.host_as_meta(v) for k, v in tree.items()}
        return tree


def _moves_device(args: tuple, kwargs: dict) -> bool:
    """Whether `Tensor.to(*args, **kwargs)` names a device (a device, a string or another tensor)."""
    if kwargs.get("device") is not None or isinstance(kwargs.get("other"), torch.Tensor):
        return True
    return any(isinstance(a, (torch.device, str, torch.Tensor)) for a in args)


def loose_tensors(obj: Any) -> list[str]:
    """Tensors held as plain attributes of a module (not parameters or buffers): they do not move
    with `.to(device)` and are not saved in `state_dict`."""
    if not isinstance(obj, torch.nn.Module):
        return []
    found = []
    for prefix, module in obj.named_modules():
        for name, value in vars(module).items():
            if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter):
                found.append(f"{prefix}.{name}" if prefix else name)
    return found


def _fault(exc: BaseException, is_learner_frame: Callable[[str], bool]) -> LearnerFault:
    """A report of an exception, showing only frames from the implementation's own files."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_learner_frame(f.filename)]
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and is_learner_frame(exc.filename):
        line = exc.lineno
    elif frames:
        line = frames[-1].lineno
    shown = "".join(traceback.format_list(frames)) if frames else ""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a learner's exception whose __str__ fails
        text = "<unprintable>"
    return LearnerFault({"type": type(exc).__name__, "message": text[:2000], "traceback": shown[-4000:],
                         "line": line})


def _bce_logits(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if not isinstance(out, torch.Tensor) or out.shape != target.shape:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the model should return logits of shape {tuple(target.shape)} for BCEWithLogitsLoss, "
                         f"got {shape}")
    return torch.nn.functional.binary_cross_entropy_with_logits(out, target.to(out.dtype))


def _cross_entropy(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != target.shape[0] or \
            (target.numel() and out.shape[1] <= int(target.max())):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the model should return logits of shape ({target.shape[0]}, n_classes) for "
                         f"CrossEntropyLoss, got {shape}")
    return torch.nn.functional.cross_entropy(out, target)


TRAINING_LOSSES = {
    "mse": torch.nn.functional.mse_loss,
    "bce_logits": _bce_logits,
    "cross_entropy": _cross_entropy,
}
"""The losses `op_train` may train with, by name (the judge picks one; the learner cannot add one)."""


class Executor:
    """Performs operations against a namespace of names (a module's globals, or a known mistake)."""

    def __init__(self, namespace: dict[str, Any], is_learner_frame: Callable[[str], bool] = lambda f: False):
        self.namespace = namespace
        self.handles: dict[int, Any] = {}
        self.optimizers: dict[int, Any] = {}
        self.is_learner_frame = is_learner_frame

    # -- the operations -------------------------------------------------------------------
    def run(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        method = getattr(self, f"op_{op}", None)
        if method is None:
            raise ValueError(f"unknown operation {op!r}")
        args = {k: materialize(v, self.handles) for k, v in request.items() if k != "op"}
        try:
            return method(**args)
        except LearnerFault:
            raise
        except Exception as exc:  # noqa: BLE001 - anything the implementation raised
            raise _fault(exc, self.is_learner_frame) from None

    def op_kinds(self, names: list[str]) -> dict[str, str]:
        """What each required name is: class, module_class, function, other or missing."""
        out = {}
        for name in names:
            if name not in self.namespace:
                out[name] = "missing"
                continue
            obj = self.namespace[name]
            if isinstance(obj, type):
                out[name] = "module_class" if issubclass(obj, torch.nn.Module) else "class"
            elif callable(obj):
                out[name] = "function"
            else:
                out[name] = "other"
        return out

    def lookup(self, name: str) -> Any:
        """A name the implementation defines, or `module:attr` from a provided support module."""
        if ":" in name:
            import importlib

            module, attr = name.split(":", 1)
            return getattr(importlib.import_module(module), attr)
        return self.namespace[name]

    def op_new(self, name: str, handle: int, args: tuple = (), kwargs: dict | None = None) -> Any:
        factory = self.lookup(name)
        if name.partition(":")[0].split(".")[0] == "torch":
            # A PyTorch module the grader builds for the learner's code (e.g. the nn.Transformer it
            # wraps): what torch warns while building it is not the learner's to read.
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = factory(*args, **(kwargs or {}))
        else:
            obj = factory(*args, **(kwargs or {}))
        self.handles[handle] = obj
        return encode(self._describe(obj))

    def op_load_state(self, handle: int, state: dict[str, torch.Tensor], strict: bool = True,
                      all_buffers: bool = False) -> Any:
        """`module.load_state_dict(state)`; with `all_buffers`, buffers that state_dict leaves out
        (persistent=False) are set from `state` too, so a check of forward does not hinge on that."""
        module = self.handles[handle]
        extra = {}
        if all_buffers:
            for name in list(state):
                owner, _, leaf = name.rpartition(".")
                sub = module.get_submodule(owner) if owner else module
                if leaf in getattr(sub, "_non_persistent_buffers_set", ()):
                    extra[name] = (sub, leaf, state.pop(name))
        with torch.no_grad():
            module.load_state_dict(state, strict=strict)
            for sub, leaf, value in extra.values():
                sub._buffers[leaf].copy_(value)
        return None

    def op_state(self, handle: int) -> Any:
        module = self.handles[handle]
        return encode({"parameters": dict(module.named_parameters()), "buffers": dict(module.named_buffers())},
                      "state")

    def op_to(self, handle: int, device: str | None = None, dtype: torch.dtype | None = None) -> Any:
        module = self.handles[handle]
        module.to(device=device, dtype=dtype)
        return None

    def op_mode(self, handle: int, train: bool) -> Any:
        self.handles[handle].train(train)
        return None

    def op_train(self, handle: int, data: str, steps: int, batch: int, lr: float, seed: int, start: int = 0,
                 loss: str = "mse") -> Any:
        """Train a module for `steps` Adam steps on batches from the trusted `data` function
        (`module:function`, called as fn(batch, generator) → {"train_args": (...), "target": tensor}),
        minimising `loss` of module(*train_args) against target: one of TRAINING_LOSSES by name
        ("mse", the default: mean squared error; "bce_logits": BCEWithLogitsLoss against float 0/1
        targets of the output's shape; "cross_entropy": CrossEntropyLoss, logits (N, C) against
        class indices (N,)). The loss is built here from that fixed list, never from learner data.
        The optimizer is kept between calls, so a long run can be done (and reported on) in chunks."""
        if loss not in TRAINING_LOSSES:
            raise ValueError(f"unknown training loss {loss!r}; expected one of {sorted(TRAINING_LOSSES)}")
        criterion = TRAINING_LOSSES[loss]
        module = self.handles[handle]
        make = self.lookup(data)
        if handle not in self.optimizers:
            self.optimizers[handle] = torch.optim.Adam(module.parameters(), lr=lr)
        opt = self.optimizers[handle]
        module.train()
        losses = []
        for step in range(start, start + steps):
            sample = make(batch, torch.Generator().manual_seed(seed + step))
            out = module(*sample["train_args"])
            value = criterion(out, sample["target"])
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
        return encode(losses, "losses")

    def op_seed(self, seed: int) -> Any:
        torch.manual_seed(seed)
        return None

    def op_call(self, fn: Any, args: tuple = (), kwargs: dict | None = None, grads: int | None = None,
                method: str | None = None, elsewhere: bool = False, grad_at: list | None = None) -> Any:
        """Call a name, a handle or a handle's method; with `grads` (a seed), also backpropagate.
        With `elsewhere`, tensors created without a device land away from the inputs (see Elsewhere).
        With `grad_at = [dim, index]`, the upstream gradient is zero except at `index` along `dim` of
        each output, so input gradients show what that one output position depends on."""
        target = self.lookup(fn) if isinstance(fn, str) else fn
        module = target if isinstance(target, torch.nn.Module) else None
        if method is not None:
            target = getattr(target, method)
        kwargs = dict(kwargs or {})
        args = list(args)
        if grads is not None:
            args = [_leaf(a) for a in args]
            kwargs = {k: _leaf(v) for k, v in kwargs.items()}
            if module is not None:
                module.zero_grad(set_to_none=True)
        if elsewhere:
            stand_in = Elsewhere(loose_from=[module] if module is not None else [])
            with stand_in:
                out = target(*args, **kwargs)
            result = {"output": encode(stand_in.host_as_meta(out), "output")}
        else:
            out = target(*args, **kwargs)
            result = {"output": encode(out, "output")}
        if grads is not None:
            result["grads"] = self._backward(out, args, kwargs, module, grads, grad_at)
        return {"__dict__": result}

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _describe(obj: Any) -> dict[str, Any]:
        if not isinstance(obj, torch.nn.Module):
            return {"type": type(obj).__name__}
        return {
            "type": type(obj).__name__,
            "parameters": {n: {"shape": list(p.shape), "dtype": str(p.dtype)} for n, p in obj.named_parameters()},
            "buffers": {n: {"shape": list(b.shape), "dtype": str(b.dtype)} for n, b in obj.named_buffers()},
            "loose_tensors": loose_tensors(obj),
        }

    def _backward(self, out: Any, args: list, kwargs: dict, module: Any, seed: int, grad_at: list | None) -> Any:
        outputs = [t for t in _tensors(out) if t.is_floating_point()]
        live = [t for t in outputs if t.requires_grad and t.device.type != "meta"]
        if grad_at is not None:
            dim, index = int(grad_at[0]), int(grad_at[1])
            live = [t for t in live if t.dim() > dim and t.shape[dim] > index]
        if live:
            ups = [upstream_like(t, seed + i) for i, t in enumerate(live)]
            if grad_at is not None:
                ups = [_only_at(u, dim, index) for u in ups]
            total = sum((t * u).sum() for t, u in zip(live, ups))
            total.backward()
        grads = {
            "inputs": [_grad_of(a) for a in args],
            "kwargs": {k: v.grad for k, v in kwargs.items() if isinstance(v, torch.Tensor) and v.requires_grad},
            "params": {n: p.grad for n, p in module.named_parameters()} if module is not None else {},
            "connected": bool(live),
        }
        return encode(grads, "gradients")


def _only_at(t: torch.Tensor, dim: int, index: int) -> torch.Tensor:
    keep = torch.zeros_like(t)
    keep.narrow(dim, index, 1).copy_(t.narrow(dim, index, 1))
    return keep


def _leaf(value: Any) -> Any:
    """A fresh leaf that requires grad for each floating tensor, also inside a tuple such as LSTM's (h, c)."""
    if isinstance(value, torch.Tensor) and value.is_floating_point() and value.device.type != "meta":
        return value.detach().clone().requires_grad_(True)
    if type(value) is tuple:
        return tuple(_leaf(v) for v in value)
    return value


def _grad_of(value: Any) -> Any:
    """The gradient of an argument made by `_leaf`: a tensor, a tuple of them (None where there is none), or None."""
    if isinstance(value, torch.Tensor):
        return value.grad if value.requires_grad else None
    if type(value) is tuple and any(isinstance(v, torch.Tensor) and v.requires_grad for v in value):
        return tuple(_grad_of(v) for v in value)
    return None


def _tensors(tree: Any) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [t for item in tree for t in _tensors(item)]
    if isinstance(tree, dict):
        return [t for item in tree.values() for t in _tensors(item)]
    return []
