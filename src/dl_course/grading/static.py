"""What the judge sees in the learner's source without running it or trusting its process.

The run-time watch in the learner process (`sandbox.ApiWatch`) can be switched off by the code
it watches; the forbidden kernels raising at the dispatcher cannot, but a learner could still
reach into torch's internals to undo them. So, for an exercise with API rules, the judge reads
the learner's files (the exercise's file and the sibling modules it imports, never the pack's
support files) with `ast` and reports what no honest solution needs: `ctypes`, `gc`,
`torch._C`, `torch.jit`, `torch.library`, `torch.overrides`, `torch._dynamo`, the learner
runtime (`dl_course`), and any forbidden name, through whatever alias it was imported.
"""

from __future__ import annotations

import ast
import os

__all__ = ["findings"]

_INTERNALS = {
    "ctypes": "ctypes (calls into C, past every Python fence)",
    "gc": "gc (reaches objects it was never given)",
    "torch._C": "torch._C (PyTorch's internals: its function modes and dispatcher)",
    "torch.jit": "torch.jit",
    "torch.library": "torch.library (re-registers kernels)",
    "torch.overrides": "torch.overrides",
    "torch._dynamo": "torch._dynamo",
    "torch.compile": "torch.compile",
    "dl_course": "dl_course (the grader's own runtime)",
    "sys.modules": "sys.modules",
    "importlib": "importlib",
    "builtins": "builtins",
    "pickle": "pickle (runs code while it loads)",
    "marshal": "marshal (builds code objects)",
    "runpy": "runpy",
    "code": "code (runs code built at run time)",
    "codeop": "codeop",
    "types": "types (builds functions and code objects)",
    "torch.load": "torch.load (unpickles, which can run code)",
    "torch.serialization": "torch.serialization",
}

# Code built or reached at run time, which a reader of the source cannot follow: the routes by
# which learner code would reach the grader's runtime (and switch its fences off) without naming it.
_DYNAMIC_CALLS = {"exec", "eval", "compile", "vars", "globals", "locals", "breakpoint"}
_DUNDERS = {"__dict__", "__subclasses__", "__globals__", "__builtins__", "__code__", "__closure__", "__bases__",
            "__base__", "__mro__", "__loader__", "__spec__", "__getattribute__"}


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _scan(source: str, forbidden: list[str]) -> tuple[dict[str, int], set[str]]:
    """(what was found → its line, sibling modules imported)."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found: dict[str, int] = {}
    imported: set[str] = set()

    def note(name: str, line: int) -> None:
        for prefix, what in _INTERNALS.items():
            if name == prefix or name.startswith(prefix + "."):
                found.setdefault(what, line)
        for bad in forbidden:
            if name == bad or name.startswith(bad + "."):
                found.setdefault(bad, line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
                note(alias.name, node.lineno)
                imported.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                aliases[alias.asname or alias.name] = full
                note(full, node.lineno)
    # The names bound to imported modules (and what is imported from them): attributes of these
    # looked up by a computed name could be anything, a forbidden function included.
    imported_roots = {alias.split(".")[0] for alias in aliases.values()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "ctx", None), ast.Store):
            name = _dotted(node, aliases)
            if name:
                note(name, node.lineno)
        elif isinstance(node, ast.Name) and node.id in aliases:
            note(aliases[node.id], node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            found.setdefault("__import__", node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in _DYNAMIC_CALLS:
                found.setdefault(f"{node.func.id}() (code or names reached at run time, which the grader cannot "
                                 "read)", node.lineno)
            elif node.func.id in ("getattr", "setattr", "delattr", "hasattr") and len(node.args) >= 2:
                owner = _dotted(node.args[0], aliases) if isinstance(node.args[0], (ast.Name, ast.Attribute)) else None
                module = owner is not None and owner.split(".")[0] in imported_roots
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    if owner:
                        note(f"{owner}.{name.value}", node.lineno)  # getattr(F, "softmax") is F.softmax
                elif module:
                    found.setdefault(f"{node.func.id}({owner}, <a name computed at run time>)", node.lineno)
        if isinstance(node, ast.Attribute) and node.attr in _DUNDERS:
            found.setdefault(f"{node.attr} (reaches objects by the back door)", node.lineno)
        elif isinstance(node, ast.Name) and node.id in _DUNDERS:
            found.setdefault(f"{node.id} (reaches objects by the back door)", node.lineno)
    return found, imported


def findings(path: str, forbidden: list[str], support: list[str] = ()) -> dict[str, str]:
    """What the learner's file (and the sibling modules it imports) use that the exercise's API
    rules do not allow: name → where ("line N of FILE"). Empty without API rules."""
    if not forbidden:
        return {}
    folder = os.path.dirname(path)
    out: dict[str, str] = {}
    todo, seen = [path], set()
    while todo:
        current = todo.pop()
        if current in seen or os.path.basename(current) in support:
            continue
        seen.add(current)
        try:
            with open(current, "rb") as f:
                source = f.read(2 * 1024 * 1024).decode("utf-8", "replace")
            found, imported = _scan(source, forbidden)
        except (OSError, SyntaxError, ValueError, RecursionError):
            continue  # what cannot be read or parsed fails elsewhere (loads)
        for what, line in found.items():
            out.setdefault(what, f"line {line} of {os.path.basename(current)}")
        for module in imported:
            sibling = os.path.join(folder, f"{module}.py")
            if os.path.isfile(sibling):
                todo.append(sibling)
    return out
