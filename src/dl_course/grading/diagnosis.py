"""Naming the mistake behind a failed check.

`Diagnosis` holds `Grade`'s matching (mixed into `harness.Grade`, whose learner, reference,
known mistakes and variants it uses): the first known mistake that gives what the learner's
code gave on every case tried, compared exactly, then with masking fills made alike
(`_masking_alike`); failing that, a variant of the reference with one slip or two, searched
for at most VARIANT_BUDGET_S per exercise. Two exceptions match when they are the same kind
(`_same_fault`).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import torch

from dl_course.grading.cases import Case, CheckFailed, GraderBug, Probe
from dl_course.grading.mistakes import Mistake
from dl_course.grading.targets import LocalTarget, Run, Target
from dl_course.grading.tolerance import _grad_difference
from dl_course.grading.wire import TensorData

# Seconds one exercise's failed checks may spend, all together, looking for variants of the
# reference that explain them.
VARIANT_BUDGET_S = 3.0


class Diagnosis:
    """`Grade`'s naming of a failure by a known mistake or a variant (see the module doc)."""

    def diagnose(self, probe: Probe, cases: list[Case], against: Target | None = None) -> Mistake | None:
        """The first known mistake that gives what the learner's code gave on every case tried:
        compared exactly first, then, only if none matches, with masking fills made alike (see
        `_masking_alike`), so a learner's -1e9 fill does not hide the mistake they made."""
        # A mistake an earlier check named is tried first: the same slip usually fails several
        # checks, and replaying every known mistake for each would cost the most where code is wrong.
        ordered = sorted(self.mistakes, key=lambda pair: pair[0].id not in self._named)
        for loose in (False, True):
            for mistake, target in ordered:
                if all(self._same(probe, case, target, loose) for case in cases) and \
                        self._wrong_somewhere(probe, cases, target, against):
                    if mistake.id not in self._named:
                        self._named.append(mistake.id)
                    return mistake
        return self._diagnose_by_variant(probe, cases, against)

    def _diagnose_by_variant(self, probe: Probe, cases: list[Case], against: Target | None) -> Mistake | None:
        """The first variant of the reference (one slip, then two) that gives exactly what the
        learner's code gave on every case, tried for at most VARIANT_BUDGET_S. Only code that
        answered is compared: an exception explains itself better than a guess."""
        if self.variants is None or self._variant_time >= VARIANT_BUDGET_S or \
                any(self.run(self.learner, probe, case)[1] for case in cases):
            return None
        started = time.monotonic()
        try:
            return self._search_variants(probe, cases, started + VARIANT_BUDGET_S - self._variant_time, against)
        finally:
            self._variant_time += time.monotonic() - started

    def _search_variants(self, probe: Probe, cases: list[Case], deadline: float, against: Target | None
                         ) -> Mistake | None:
        if self._variant_source is None:
            self._variant_source = self.variants()
        index = 0
        while time.monotonic() < deadline:
            if index == len(self._variants):  # made lazily, once per exercise, shared by its checks
                made = next(self._variant_source, None)
                if made is None:
                    return None
                self._variants.append(made)
            mistake, target = self._variants[index]
            index += 1
            try:
                if all(self._same(probe, case, target) for case in cases) and \
                        self._wrong_somewhere(probe, cases, target, against):
                    return mistake
            except GraderBug:  # a variant that breaks the probe itself explains nothing
                continue
        return None

    def _wrong_somewhere(self, probe: Probe, cases: list[Case], target: LocalTarget,
                         against: Target | None = None) -> bool:
        """Whether a known mistake gives other than what the check expects (`against`, else the
        reference) on one of `cases`: one that does not (an unplaced torch.full on the CPU, say)
        cannot be what failed the learner there."""
        for case in cases:
            right, _ = self.run(against or self.reference, probe, case)
            try:
                theirs, their_fault = self.run(target, probe, case)
            except CheckFailed:
                return True
            if their_fault:
                return True
            for grads in (False, True):
                if grads and not (isinstance(right, Run) and "grads" in right):
                    continue
                problem = _grad_difference(right, theirs, self.tolerance) if grads else \
                    self._difference(right, theirs, "values", False)
                if problem and against is not None:  # rounding apart from a stand-in is no slip
                    problem = self._beyond_noise(probe, case, right, theirs, grads, problem)
                if problem:
                    return True
        return False

    def _same(self, probe: Probe, case: Case, target: LocalTarget, loose: bool = False) -> bool:
        got, got_fault = self.run(self.learner, probe, case)
        try:
            theirs, their_fault = self.run(target, probe, case)
        except CheckFailed:
            return False
        if got_fault or their_fault:
            return bool(got_fault and their_fault and _same_fault(got_fault, their_fault))
        if loose:
            theirs, got = _masking_alike(theirs, got)
        return self._difference(theirs, got, "values", False) is None and \
            (not isinstance(theirs, Run) or "grads" not in theirs or
             _grad_difference(theirs, got, self.tolerance) is None)


def _masking_alike(a: Any, b: Any) -> tuple[Any, Any]:
    """Two results made comparable for naming a mistake, whatever fill a mask used: any value at
    or below -1e4 counts as -inf, and where one side is NaN and the other is not (a row masked
    everywhere: -inf gives NaN, -1e9 a uniform row), neither is compared, as long as that leaves
    at least half of the values to compare (NaN everywhere on one side names nothing). Only for
    diagnosis: the checks themselves compare exactly."""
    if isinstance(a, TensorData) and isinstance(b, TensorData):
        if (a.values is None or b.values is None or a.values.shape != b.values.shape
                or not a.values.is_floating_point() or not b.values.is_floating_point()):
            return a, b
        x, y = a.values.clone(), b.values.clone()
        for v in (x, y):
            v[v <= -1e4] = float("-inf")
        odd = torch.isnan(x) ^ torch.isnan(y)
        if odd.sum().item() * 2 > odd.numel():
            return a, b
        x[odd], y[odd] = 0.0, 0.0
        return replace(a, values=x), replace(b, values=y)
    if isinstance(a, dict) and isinstance(b, dict):
        pairs = {k: _masking_alike(a[k], b[k]) for k in a if k in b}
        return (type(a)({k: pairs[k][0] if k in pairs else v for k, v in a.items()}),
                type(b)({k: pairs[k][1] if k in pairs else v for k, v in b.items()}))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        pairs = [_masking_alike(x, y) for x, y in zip(a, b)]
        return type(a)(p[0] for p in pairs), type(b)(p[1] for p in pairs)
    return a, b


def _same_fault(a: dict, b: dict) -> bool:
    """Two failures are the same kind: same exception type and the same message up to numbers, or
    both about mixing devices, or both about mixing dtypes (PyTorch words these per operation)."""
    if a.get("type") != b.get("type"):
        return False

    def kind(s: Any) -> str:
        text = str(s or "")
        low = text.lower()
        if "device" in low:
            return "device"
        if "dtype" in low or "scalar type" in low:
            return "dtype"
        return re.sub(r"[0-9]+", "#", text)[:200]

    return kind(a.get("message")) == kind(b.get("message"))
