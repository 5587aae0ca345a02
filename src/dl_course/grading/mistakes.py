"""Known mistakes: wrong variants of an exercise, each naming the misconception it stands for.

In `grader/<chapter>/<exercise>/mistakes.py` an author writes each variant with the same
name as what the learner defines, and marks it:

    from dl_course.grading.mistakes import mistake

    @mistake("upper_triangular", "The mask lets each position see the future instead of the past.")
    def subsequent_mask(size, device=None):
        ...

A variant that provides a name other than its own (two classes in one file) says
`provides="GRUCell"`. Variants never import the reference: each is a whole wrong answer.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

__all__ = ["mistake", "Mistake", "load_mistakes", "namespace_for"]

_REGISTRY_ATTR = "__dl_course_mistakes__"


@dataclass(frozen=True)
class Mistake:
    """One known wrong variant."""

    id: str
    """Stable identifier, used by hints (`on = "mistake:ID"`) and the class report."""
    message: str
    """The misconception, in one line the learner reads."""
    provides: str
    """The name this variant stands in for."""
    obj: Any
    """The wrong implementation itself."""


def mistake(mistake_id: str, message: str, provides: str | None = None) -> Callable[[Any], Any]:
    """Register the decorated function or class as a known mistake of this exercise."""

    def register(obj: Any) -> Any:
        module = sys.modules[obj.__module__]
        registry = module.__dict__.setdefault(_REGISTRY_ATTR, [])
        if any(m.id == mistake_id for m in registry):
            raise ValueError(f"mistake id {mistake_id!r} is used twice in {module.__file__}")
        registry.append(Mistake(mistake_id, message, provides or obj.__name__, obj))
        return obj

    return register


def registered(module: ModuleType) -> list[Mistake]:
    return list(module.__dict__.get(_REGISTRY_ATTR, []))


def load_mistakes(path: Path) -> list[Mistake]:
    """Import a `mistakes.py` (trusted pack code) and return its variants in file order."""
    if not path.is_file():
        return []
    name = f"_dl_course_mistakes_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return registered(module)


def namespace_for(module: ModuleType, mistake_id: str) -> dict[str, Any]:
    """The names a learner would define, taken from one variant (the rest from the module)."""
    namespace = dict(vars(module))
    for m in registered(module):
        if m.id == mistake_id:
            namespace[m.provides] = m.obj
            return namespace
    raise KeyError(f"no mistake {mistake_id!r} in {module.__file__}")
