"""Which cells of a notebook an exercise needs: the rule that lets a broken cell stay out of the way.

A notebook exercise is graded like *Restart & Run All* stopping after its cell (see
`dl_course.notebook`). A cell that is not valid Python (a SyntaxError) cannot run, but it should
only stop the exercises that need it, never every exercise below it. The rule:

* Every valid code cell from the top down to the exercise's cell is kept, as before.
* A cell that does not compile is **needed**, and stops the check with its SyntaxError, when

  - it is the exercise's own cell; or
  - it is the cell of an exercise this one builds on (`uses` in its exercise.toml); or
  - it defines a name that the exercise needs: a name used anywhere in the exercise's own cell, or
    at the top level of any kept cell (code that runs while the file is imported), or anywhere in a
    kept cell that defines a name already needed (followed to a fixed point); or
  - it has a star import (`from x import *`), whose names cannot be known.

  What a broken cell defines is read from its text, generously: every `def NAME`, `class NAME`,
  `NAME = …`, `import …`, `for NAME in`, `… as NAME` and `NAME :=` on any line. Reading too many
  names only makes a cell needed more often (it stops the check, as it would have anyway). A name
  it only imports (`import torch`) does not count when a kept cell binds that name too: the
  exercise has it either way.
* Any other broken cell is **left out**, and the result says so ("cell 5 was left out: …").

So a syntax error in the cell of an earlier exercise stops that exercise (and any exercise that
uses what it defines), but not an unrelated exercise further down.

Nothing here imports torch, nbformat or IPython.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

__all__ = ["CellNames", "names_of", "names_of_broken", "needed_names"]


@dataclass
class CellNames:
    defines: set[str] = field(default_factory=set)
    """Names bound at the cell's top level (functions, classes, assignments, imports, loop targets)."""
    uses: set[str] = field(default_factory=set)
    """Every name read anywhere in the cell, function bodies included."""
    top_uses: set[str] = field(default_factory=set)
    """Names read while the cell runs (outside function and lambda bodies: at import time)."""
    star: bool = False
    """The cell has `from x import *`: what it defines is unknown."""
    imported: set[str] = field(default_factory=set)
    """Of a broken cell's names, those bound only by its import lines."""
    binding_uses: dict[str, set[str]] = field(default_factory=dict)
    """For each name defined: the names read by the statements that define it (a function's body too)."""


class _Walker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.names = CellNames()
        self.depth = 0  # > 0 inside a function or lambda body (code that runs only when called)
        self.scope = 0  # > 0 inside any function, lambda or class body (bindings are not top level)

    def _use(self, name: str) -> None:
        self.names.uses.add(name)
        if self.depth == 0:
            self.names.top_uses.add(name)

    def _bind(self, name: str) -> None:
        if self.scope == 0:
            self.names.defines.add(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._use(node.id)
        else:
            self._bind(node.id)
            if isinstance(node.ctx, ast.Del):
                self._use(node.id)

    def _function(self, node: ast.AST, name: str | None, body: list[ast.AST] | ast.AST,
                  outer: list[ast.AST]) -> None:
        if name:
            self._bind(name)
        for part in outer:  # decorators, defaults, annotations: evaluated when the def runs
            self.visit(part)
        self.depth += 1
        self.scope += 1
        for part in body if isinstance(body, list) else [body]:
            self.visit(part)
        self.depth -= 1
        self.scope -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        a = node.args
        outer = [*node.decorator_list, *a.defaults, *[d for d in a.kw_defaults if d is not None]]
        outer += [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
                  if x is not None and x.annotation is not None]
        if node.returns is not None:
            outer.append(node.returns)
        self._function(node, node.name, node.body, outer)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, None, node.body, [*node.args.defaults, *[d for d in node.args.kw_defaults if d]])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._bind(node.name)
        for part in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit(part)
        self.scope += 1  # a class body runs at once (depth unchanged), but binds class attributes
        for part in node.body:
            self.visit(part)
        self.scope -= 1

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._bind(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.names.star = True
            else:
                self._bind(alias.asname or alias.name)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self.names.defines.add(name)
            self._use(name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)


def names_of(source: str) -> CellNames:
    """What a valid cell defines and uses (see `CellNames`)."""
    names = CellNames()
    for statement in ast.parse(source).body:
        walker = _Walker()
        walker.visit(statement)
        part = walker.names
        names.defines |= part.defines
        names.uses |= part.uses
        names.top_uses |= part.top_uses
        names.star = names.star or part.star
        for name in part.defines:
            names.binding_uses.setdefault(name, set()).update(part.uses)
    return names


_WORD = r"[A-Za-z_]\w*"
_DEF = re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+({_WORD})", re.M)
_ASSIGN = re.compile(rf"^\s*\(?\s*({_WORD}(?:\s*,\s*\*?{_WORD})*)\s*,?\s*\)?\s*(?::[^=\n]*)?(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)",
                     re.M)
_IMPORT = re.compile(r"^\s*import\s+([^\n#]+)", re.M)
_FROM = re.compile(r"^\s*from\s+\S+\s+import\s+([^\n#]+)", re.M)
_IMPORT_LINE = re.compile(r"^\s*(?:import\s|from\s+\S+\s+import\s)[^\n]*", re.M)
_FOR = re.compile(r"\bfor\s+([\w\s,()*]+?)\s+in\b")
_AS = re.compile(rf"\bas\s+({_WORD})")
_WALRUS = re.compile(rf"({_WORD})\s*:=")


def names_of_broken(source: str) -> CellNames:
    """What a cell that does not compile may define, read from its text (generously, see the module doc)."""
    names = CellNames()
    found = names.imported
    for group in _IMPORT.findall(source):
        for part in group.split(","):
            words = part.split()
            if words:
                found.add(words[-1] if len(words) >= 3 and words[-2] == "as" else words[0].split(".")[0])
    for group in _FROM.findall(source):
        for part in group.strip().strip("()\\").split(","):
            words = part.strip().strip("()").split()
            if not words:
                continue
            if words[0] == "*":
                names.star = True
            else:
                found.add(words[-1] if len(words) >= 3 and words[-2] == "as" else words[0])
    rest = _IMPORT_LINE.sub("", source)
    other: set[str] = set(_DEF.findall(rest))
    for group in _ASSIGN.findall(rest):
        other.update(w.strip(" *") for w in group.split(","))
    for group in _FOR.findall(rest):
        other.update(re.findall(_WORD, group))
    other.update(_AS.findall(rest))
    other.update(_WALRUS.findall(rest))
    names.imported = {n for n in names.imported if n} - other
    names.defines = (names.imported | other) - {""}
    return names


def needed_names(target: CellNames, kept: list[CellNames]) -> set[str]:
    """The names an exercise needs: those its own cell uses anywhere, those any kept cell uses at its
    top level (they run on import), and, for each needed name a kept cell defines, the names its
    definition uses (a function's body too), followed to a fixed point."""
    needed = set(target.uses)
    for cell in kept:
        needed |= cell.top_uses
    followed: set[tuple[int, str]] = set()
    grown = True
    while grown:
        grown = False
        for i, cell in enumerate(kept):
            for name in cell.defines & needed:
                if (i, name) in followed:
                    continue
                followed.add((i, name))
                more = cell.binding_uses.get(name, set()) - needed
                if more:
                    needed |= more
                    grown = True
    return needed
