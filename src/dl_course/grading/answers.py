"""The judge's check of every answer the learner process sends, before anything uses it.

The learner process is hostile: whatever it sends is a claim. `validate(op, tree)` bounds the
tree (depth, node count, tensor count and size), decodes it, and checks that it has the form the
operation answers with (a call gives `{"output", "grads"?}`, a state gives parameters and
buffers as tensors, …). Anything else raises `BadAnswer`, which the harness treats as the
learner's failed check, never as a grader error. Values are compared later against the
reference (a tensor without values passes only where the reference's is on `meta`).
"""

from __future__ import annotations

from typing import Any

from dl_course.grading import wire
from dl_course.grading.wire import TensorData

__all__ = ["validate", "plain_fault", "BadAnswer", "MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 24
MAX_NODES = 20_000
MAX_TENSORS = 2_000
MAX_ELEMENTS = 64 * 1024 * 1024


class BadAnswer(Exception):
    """An answer the judge will not use; the message says what was wrong with it."""


def _bound(tree: Any) -> None:
    """Walk the raw tree once, counting every visit (shared references count each time they are
    reached, so a small answer that expands to a huge tree is refused before it is expanded)."""
    import torch

    nodes = tensors = elements = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise BadAnswer(f"the answer has more than {MAX_NODES:,} parts")
        if depth > MAX_DEPTH:
            raise BadAnswer(f"the answer is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            if node.get("__tensor__") is True:
                tensors += 1
                values = node.get("values")
                if isinstance(values, torch.Tensor):
                    elements += values.numel()
                shape = node.get("shape")
                if isinstance(shape, list) and len(shape) > 16:
                    raise BadAnswer("a tensor in the answer has more than 16 dimensions")
                if tensors > MAX_TENSORS or elements > MAX_ELEMENTS:
                    raise BadAnswer("the answer holds too many tensors or values")
                continue
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)


def _tensor_or_none(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, TensorData):
        raise BadAnswer(f"{where} should be a tensor or None")


def _tensors_by_name(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise BadAnswer(f"{where} should map names to tensors")
    for name, t in value.items():
        _tensor_or_none(t, f"{where}['{name}']")


def _shape_info(value: Any, where: str) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise BadAnswer(f"{where} should map names to shapes and dtypes")


def validate(op: str, tree: Any) -> Any:
    """`tree` when it is a well-formed answer to `op` (bounded, decodable, of the op's form); else BadAnswer."""
    _bound(tree)
    if op == "kinds":  # a plain dict of names, not an encoded tree
        if not isinstance(tree, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tree.items()):
            raise BadAnswer("the list of defined names is malformed")
        return tree
    try:
        value = wire.decode(tree, "answer")
    except wire.WireError as e:
        raise BadAnswer(str(e)) from None
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as e:
        raise BadAnswer(f"the answer is malformed ({type(e).__name__})") from None
    if op == "call":
        if not isinstance(value, dict) or "output" not in value or set(value) - {"output", "grads"}:
            raise BadAnswer("the answer to a call should hold its output (and gradients when asked)")
        if "grads" in value:
            grads = value["grads"]
            if not isinstance(grads, dict) or set(grads) != {"inputs", "kwargs", "params", "connected"}:
                raise BadAnswer("the gradients in the answer are malformed")
            if not isinstance(grads["inputs"], list) or type(grads["connected"]) is not bool:
                raise BadAnswer("the gradients in the answer are malformed")
            _tensors_by_name(grads["kwargs"], "gradients['kwargs']")
            _tensors_by_name(grads["params"], "gradients['params']")
    elif op == "state":
        if not isinstance(value, dict) or set(value) != {"parameters", "buffers"}:
            raise BadAnswer("the module's state should hold its parameters and buffers")
        _tensors_by_name(value["parameters"], "parameters")
        _tensors_by_name(value["buffers"], "buffers")
    elif op == "new":
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise BadAnswer("the description of a new object is malformed")
        for key in ("parameters", "buffers"):
            if key in value:
                _shape_info(value[key], key)
        loose = value.get("loose_tensors", [])
        if not isinstance(loose, list) or not all(isinstance(x, str) for x in loose):
            raise BadAnswer("the description of a new object is malformed")
    elif op == "train":
        if not isinstance(value, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                  for x in value):
            raise BadAnswer("the training losses should be a list of numbers")
    elif value is not None:
        raise BadAnswer(f"the answer to {op!r} should be empty")
    return tree


def plain_fault(fault: Any) -> dict[str, Any]:
    """A learner's report of an exception, reduced to short strings and a line number (whatever
    else it held, however deep or shared, is dropped unread)."""
    fault = fault if isinstance(fault, dict) else {}
    limits = {"type": 100, "message": 2000, "traceback": 4000}
    out: dict[str, Any] = {k: fault[k][:n] if isinstance(fault.get(k), str) else "" for k, n in limits.items()}
    line = fault.get("line")
    out["line"] = line if type(line) is int else None
    return out
