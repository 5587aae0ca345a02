"""Whether a result differs from what was expected, given the exercise's tolerance and noise.

`Differences` holds `Grade`'s comparisons of two results (mixed into `harness.Grade`, whose
`tolerance`, `notes` and `run` it uses): a float64 result that meets only the float32 tolerance
passes with a note, and against a trusted stand-in a learner as close to it as the reference
is (NOISE_FACTOR times the reference's own gap) is right. `_grad_difference` compares the
gradients a probe asked for; `_largest_gap` measures the reference's gap.
"""

from __future__ import annotations

from typing import Any

from dl_course.course.model import Tolerance
from dl_course.grading.cases import Case, GraderBug, Probe
from dl_course.grading.compare import compare
from dl_course.grading.targets import Run
from dl_course.grading.wire import TensorData

# A learner this many times as far from a trusted stand-in as the reference is (on top of the
# tolerance) is still right: see Differences._beyond_noise.
NOISE_FACTOR = 4.0


class Differences:
    """`Grade`'s comparisons with the exercise's tolerance (see the module doc)."""

    def _difference(self, expected: Any, got: Any, level: str, grads: bool) -> str | None:
        """The first difference, or None. A float64 result that misses the float64 tolerance but
        meets the float32 one passes with a note: a float32 constant in otherwise right code (the
        common torch.sqrt(torch.FloatTensor([d_k]))) costs float64 precision, and the float32
        cases already accept differences that small, so failing it would fail nothing wrong."""
        problem = self._difference_at(expected, got, level, grads, self.tolerance)
        if problem is None or "float64" not in self.tolerance or "float32" not in self.tolerance:
            return problem
        relaxed = dict(self.tolerance, float64=self.tolerance["float32"])
        if self._difference_at(expected, got, level, grads, relaxed) is not None:
            return problem
        note = ("note: in float64 your result is only as close as float32 allows (" + problem.split(": ", 1)[-1] +
                "); a float32 constant (such as torch.FloatTensor([d_k]) or np.float32) costs that precision")
        if note not in self.notes:
            self.notes.append(note)
        return None

    def _beyond_noise(self, probe: Probe, case: Case, expected: Any, got: Any, grads: bool, problem: str) -> str | None:
        """`problem`, unless the learner is as close to the trusted stand-in as the reference is.

        Two right implementations that order their arithmetic differently disagree by rounding,
        and an ill-conditioned case (scores of 250 through a softmax, say) can magnify that beyond
        the exercise's tolerance. How far the reference lies from the stand-in measures that noise
        on this very case; a learner within NOISE_FACTOR times it (plus the tolerance) is right."""
        reference, fault = self.run(self.reference, probe, case)
        floor = 0.0 if fault else _largest_gap(expected, reference, grads)
        if floor <= 0.0:
            return problem
        widened = {k: Tolerance(rtol=t.rtol, atol=t.atol + NOISE_FACTOR * floor) for k, t in self.tolerance.items()}
        return problem if self._difference_at(expected, got, "values", grads, widened) else None

    @staticmethod
    def _difference_at(expected: Any, got: Any, level: str, grads: bool, tolerance: dict[str, Tolerance]) -> str | None:
        if not grads:
            e = expected["output"] if isinstance(expected, Run) else expected
            g = got["output"] if isinstance(got, Run) else got
            return compare(e, g, level, tolerance, "output")
        return _grad_difference(expected, got, tolerance)


def _largest_gap(a: Any, b: Any, grads: bool) -> float:
    """The largest absolute difference between matching floating-point tensors of two results
    (their gradients with `grads`); 0.0 where they do not line up."""
    if grads:
        a, b = (r.get("grads") if isinstance(r, dict) else None for r in (a, b))
        if isinstance(a, dict) and isinstance(b, dict):
            a, b = [a.get(k) for k in ("inputs", "kwargs", "params")], [b.get(k) for k in ("inputs", "kwargs", "params")]
    elif isinstance(a, Run) and isinstance(b, Run):
        a, b = a.get("output"), b.get("output")
    if isinstance(a, TensorData) and isinstance(b, TensorData):
        if a.values is None or b.values is None or a.shape != b.shape or not a.values.is_floating_point():
            return 0.0
        gap = (a.values.double() - b.values.double()).abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
        return float(gap.max()) if gap.numel() else 0.0
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return max((_largest_gap(x, y, False) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return max((_largest_gap(a[k], b[k], False) for k in a if k in b), default=0.0)
    return 0.0


def _grad_difference(expected: Run, got: Run, tolerance: dict[str, Tolerance]) -> str | None:
    eg, gg = expected.get("grads"), got.get("grads")
    if eg is None:
        raise GraderBug("the probe did not ask for gradients (grads=SEED)")
    if not isinstance(gg, dict):
        return "no gradients came back"
    if eg.get("connected") and not gg.get("connected"):
        return ("the output does not require grad: it was detached from the inputs (a .detach(), .data, "
                ".item(), torch.no_grad() or a new tensor built from values breaks the graph)")
    names = list(expected.get("names") or ())
    groups = [("inputs", lambda i: f"the input '{names[i]}'" if i < len(names) else f"input {i}"),
              ("kwargs", lambda k: f"the argument '{k}'"), ("params", lambda k: f"the parameter '{k}'")]
    for group, label in groups:
        e_group, g_group = eg.get(group) or {}, gg.get(group) or {}
        keys = range(len(e_group)) if isinstance(e_group, (list, tuple)) else list(e_group)
        for key in keys:
            e = e_group[key]
            g = (g_group[key] if isinstance(g_group, (list, tuple)) and key < len(g_group)
                 else g_group.get(key) if isinstance(g_group, dict) else None)
            if e is None:
                continue
            if g is None:
                return (f"no gradient reached {label(key)}: something between it and the output is detached "
                        "or rebuilt outside autograd")
            problem = compare(e, g, "values", tolerance, f"gradient of {label(key)}")
            if problem:
                return problem + " (under a random upstream gradient)"
    return None
