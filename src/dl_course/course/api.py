"""What a starter asks for, read from its source: each public function and class with its
signature and docstring, for the exercise panel. Parsed with `ast`: nothing is imported or run."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ApiItem", "starter_api"]


@dataclass(frozen=True)
class ApiItem:
    signature: str
    """E.g. `def subsequent_mask(size, device=None)` or `class GRUCell(nn.Module)`."""
    doc: str
    """The docstring, cleaned of its indentation ('' when there is none)."""


def _signature(node: ast.AST) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    return f"def {node.name}({ast.unparse(node.args)})"


def starter_api(path: Path) -> list[ApiItem]:
    """The public functions and classes of a starter (and the public methods of its classes)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    items = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            items.append(ApiItem(_signature(node), ast.get_docstring(node) or ""))
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                            (not sub.name.startswith("_") or sub.name == "__init__"):
                        sig = _signature(sub).replace("def ", f"def {node.name}.", 1)
                        items.append(ApiItem(sig, ast.get_docstring(sub) or ""))
    return items
