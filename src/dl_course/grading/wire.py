"""What crosses between processes: trees of plain tensors, numbers and strings.

`encode` turns a value into such a tree; `dumps`/`loads` serialise it with `torch.save` and
`torch.load(weights_only=True)`, so nothing but plain data can be rebuilt on the other side
(a `Tensor` subclass, a module or any other object fails to load).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["TensorData", "encode", "decode", "dumps", "loads", "WireError"]

_SCALARS = (bool, int, float, str, type(None))


class WireError(Exception):
    """A value that cannot cross (for example, an object that is not a tensor)."""


@dataclass(frozen=True)
class TensorData:
    """A tensor as the judge sees it: values on the CPU (None on `meta`), plus where it lived."""

    values: torch.Tensor | None
    shape: tuple[int, ...]
    dtype: str
    device: str
    requires_grad: bool = False

    def __repr__(self) -> str:
        return f"tensor(shape={self.shape}, dtype={self.dtype}, device={self.device})"


def encode(value: Any, path: str = "output") -> Any:
    """A plain tree for `value`; raises WireError naming the path of anything else."""
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor and not isinstance(value, torch.nn.Parameter):
            raise WireError(f"{path} is a {type(value).__name__}, a subclass of torch.Tensor; return a plain tensor")
        t = torch.Tensor._make_subclass(torch.Tensor, value.detach()) if isinstance(value, torch.nn.Parameter) \
            else value.detach()
        data = None if t.device.type == "meta" else t.to("cpu").clone()
        return {"__tensor__": True, "values": data, "shape": list(t.shape), "dtype": str(t.dtype),
                "device": str(t.device), "requires_grad": bool(value.requires_grad)}
    if isinstance(value, _SCALARS):
        return value
    if hasattr(type(value), "__wire__"):
        return type(value).__wire__(value)
    if isinstance(value, (tuple, list)):
        return {"__seq__": type(value).__name__ if type(value) in (tuple, list) else "tuple",
                "items": [encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise WireError(f"{path} has a key {k!r} that is not a string")
            out[k] = encode(v, f"{path}[{k!r}]")
        return {"__dict__": out}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value)}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, torch.Size):
        return {"__seq__": "tuple", "items": list(value)}
    raise WireError(f"{path} is a {type(value).__name__}; expected a tensor, a number, a tuple or None")


def decode(tree: Any, path: str = "output") -> Any:
    """Rebuild a tree from `encode` as TensorData, tuples, lists, dicts and scalars (never objects)."""
    if isinstance(tree, _SCALARS):
        return tree
    if isinstance(tree, dict):
        if tree.get("__tensor__") is True:
            values = tree.get("values")
            if values is not None and type(values) is not torch.Tensor:
                raise WireError(f"{path}: not a plain tensor")
            shape = tree.get("shape")
            if not isinstance(shape, list) or not all(type(s) is int for s in shape):
                raise WireError(f"{path}: malformed shape")
            if values is not None and tuple(values.shape) != tuple(shape):
                raise WireError(f"{path}: shape does not match its values")
            dtype, device = tree.get("dtype"), tree.get("device")
            if type(dtype) is not str or type(device) is not str:
                raise WireError(f"{path}: malformed dtype or device")
            if values is not None and str(values.dtype) != dtype:
                raise WireError(f"{path}: dtype does not match its values")
            return TensorData(values, tuple(shape), dtype, device, bool(tree.get("requires_grad")))
        if "__seq__" in tree:
            items = [decode(v, f"{path}[{i}]") for i, v in enumerate(tree.get("items", []))]
            return tuple(items) if tree["__seq__"] == "tuple" else items
        if "__dict__" in tree:
            return {str(k): decode(v, f"{path}[{k!r}]") for k, v in tree["__dict__"].items()}
        if "__dtype__" in tree:
            return getattr(torch, str(tree["__dtype__"]).replace("torch.", ""))
        if "__device__" in tree:
            return torch.device(str(tree["__device__"]))
    raise WireError(f"{path}: unexpected {type(tree).__name__}")


def dumps(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def loads(data: bytes) -> Any:
    """Load plain data only; anything else raises WireError."""
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any failure to load means "not plain data"
        raise WireError(f"the answer could not be read as plain data ({type(e).__name__})") from None
