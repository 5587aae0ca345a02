"""What a hidden suite uses: cases, the `grade` fixture's methods, and failures with messages.

A suite is ordinary pytest, one test per check, cheapest first:

    SIZES = [dict(size=1), dict(size=4), dict(size=9)]

    def probe(t, c):
        return t.call("subsequent_mask", c.size, device=c.device)

    def test_shape(grade):
        \"\"\"Returns a (1, size, size) tensor\"\"\"
        grade.compare(probe, SIZES, level="shape", dtypes=None)

Every failure raised here carries a sentence for the learner; a failing comparison is also
matched against the exercise's known mistakes, and a match names the misconception.

A values comparison may also keep a small picture of one output for the learner's display
(`figure=`): see `Grade.compare` and `figure_of`.

The parts live beside this module and are re-exported here, where suites import them from:
`cases` (Case, CaseRun, CheckFailed, GraderBug), `tolerance` (comparing with the tolerance and
a stand-in's noise), `diagnosis` (naming a known mistake or a variant), `training`
(`grade.learns`) and `figures` (`figure_of`). `Grade` itself, and the checks it runs, are here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

import torch

from dl_course.course.model import Tolerance
from dl_course.grading.cases import DTYPES, Case, CaseRun, CheckFailed, GraderBug, Probe, _fault_text
from dl_course.grading.compare import compare
from dl_course.grading.diagnosis import Diagnosis
from dl_course.grading.figures import _showcase, figure_of
from dl_course.grading.mistakes import Mistake
from dl_course.grading.ops import LearnerFault
from dl_course.grading.session import SessionDied
from dl_course.grading.targets import LocalTarget, Target
from dl_course.grading.tolerance import Differences
from dl_course.grading.training import Training

__all__ = ["Case", "CaseRun", "Grade", "CheckFailed", "GraderBug", "Probe", "figure_of"]


@dataclass
class Grade(Diagnosis, Training, Differences):
    """The `grade` fixture: the learner's code, the reference, the known mistakes and the settings."""

    learner: Target
    reference: LocalTarget
    mistakes: list[tuple[Mistake, LocalTarget]]
    tolerance: dict[str, Tolerance]
    seed: int
    devices: tuple[str, ...] = ("cpu",)
    progress: Callable[[str | dict], None] = lambda message: None
    """Where to report long-running work so the learner sees it move: a line of text, or for
    training a dict (see `learns`)."""
    figures: list[dict] = field(default_factory=list)
    """Pictures kept by `compare(..., figure=...)` since the last `take_figures()`."""
    notes: list[str] = field(default_factory=list)
    """Notes for a check that passed (e.g. float64 precision lost to a float32 constant); the plugin takes them."""
    variants: Callable[[], Iterator[tuple[Mistake, LocalTarget]]] | None = None
    """Variants of the reference with one slip, then two (see grading.variants): tried, within
    VARIANT_BUDGET_S, when no known mistake gives what the learner's code gave."""
    _cache: dict = field(default_factory=dict)
    _named: list[str] = field(default_factory=list)
    """Known mistakes already named by an earlier check of this exercise: tried first."""
    _variants: list = field(default_factory=list)
    _variant_source: Any = None
    _variant_time: float = 0.0

    # -- building cases -----------------------------------------------------------------------
    def cases(self, grid: list[dict[str, Any]], dtypes: tuple[str, ...] | None = ("float32", "float64"),
              devices: tuple[str, ...] | None = None) -> list[Case]:
        """Every grid point × dtype × device, smallest first, each with its own seed."""
        out = []
        for i, params in enumerate(grid):
            for dtype in dtypes or (None,):
                for device in devices or self.compute_devices:
                    out.append(Case(dict(params), DTYPES.get(dtype), device, self.seed + 7919 * i))
        return sorted(out, key=lambda c: (c.size, str(c.dtype), c.device))

    @property
    def compute_devices(self) -> tuple[str, ...]:
        return tuple(d for d in self.devices if d != "meta") or ("cpu",)

    # -- running ------------------------------------------------------------------------------
    def run(self, target: Target, probe: Probe, case: Case) -> tuple[Any, dict | None]:
        """(result, None) or (None, fault report); the learner's death ends the check at once."""
        key = (id(target), probe, case.key())
        if key in self._cache:
            return self._cache[key]
        target.elsewhere, target.grad_at = case.elsewhere, case.grad_at
        try:
            outcome = (probe(target, CaseRun(case)), None)
        except LearnerFault as fault:
            trusted = target is not self.learner and all(target is not t for _, t in self.mistakes)
            if trusted:
                raise GraderBug(f"the reference failed on {case.label}: {_fault_text(fault.report)}") from None
            outcome = (None, fault.report)
        except SessionDied as died:
            raise CheckFailed(str(died), case=case.label) from None
        finally:
            target.elsewhere, target.grad_at = False, None
        self._cache[key] = outcome
        return outcome

    def compare(self, probe: Probe, grid: list[dict[str, Any]], level: str = "values",
                dtypes: tuple[str, ...] | None = ("float32", "float64"), grads: bool = False,
                devices: tuple[str, ...] | None = None, what: str = "", against: Target | None = None,
                figure: Any = None, figure_title: str | None = None) -> None:
        """Run `probe` on the learner and the reference over the grid; fail on the smallest case that differs.

        Args:
            probe: a function `(target, case) -> result`, usually a `Run`.
            grid: parameter dicts; each becomes cases per dtype and device.
            level: how far to compare: structure, shape, dtype, device or values.
            grads: compare the gradients in the `Run` instead of the output.
            what: how to name the call in messages (e.g. "subsequent_mask(size)").
            against: compare with this trusted target instead of the reference (e.g. PyTorch's own module).
            figure: which output to picture for the learner (values comparisons only): `True` for an
                output that is one tensor, an index or key into a tuple or dict output (`1` for the
                weights of `(context, weights)`), or a tuple of them for nested outputs. One figure is
                kept: the largest failing case that gave an answer (the message still names the smallest),
                or when all pass the largest float32 case on the CPU.
            figure_title: what the figure shows, for the learner (e.g. "attention weights (batch 0)").
        """
        cases = self.cases(grid, dtypes, devices)
        failures = []
        for case in cases:
            expected, _ = self.run(against or self.reference, probe, case)
            got, fault = self.run(self.learner, probe, case)
            problem = _fault_text(fault) if fault else self._difference(expected, got, level, grads)
            if problem and not fault and against is not None and level == "values":
                problem = self._beyond_noise(probe, case, expected, got, grads, problem)
            if problem:
                failures.append((case, problem, fault))
        if figure is not None and level == "values" and not grads and cases:
            # The largest failing case that gave an answer: a 12×12 mask shows a pattern that a 2×2
            # one hides (the message still names the smallest failing case, to replay it).
            answered = [c for c, _, f in failures if f is None]
            shown = _showcase(answered) if answered else failures[0][0] if failures else _showcase(cases)
            expected, _ = self.run(against or self.reference, probe, shown)
            got, _ = self.run(self.learner, probe, shown)
            self.figures.append(figure_of(expected, got, figure, figure_title, shown.label))
        if failures:
            case, problem, fault = failures[0]
            tried = f"{len(failures)} of {len(cases)} cases failed" if len(cases) > 1 else "the only case failed"
            head = f"{what}: " if what else ""
            message = f"{head}{problem}\n  smallest failing case: {case.label} ({tried})"
            # The failing cases first: a candidate that does not match is dropped on its first case.
            failing = [c for c, _, _ in failures]
            ordered = failing + [c for c in cases if c not in failing]
            raise CheckFailed(message, case=case.label, diagnosis=self.diagnose(probe, ordered, against), fault=fault)

    def take_figures(self) -> list[dict]:
        """The figures kept since the last call (the plugin takes them after each check)."""
        taken, self.figures = self.figures, []
        return taken

    def portable(self, probe: Probe, grid: list[dict[str, Any]], what: str = "",
                 dtypes: tuple[str, ...] | None = ("float32",)) -> None:
        """Fail when the code would break on a GPU, and say what would happen there.

        Without CUDA, the probe runs on a stand-in for a GPU (see ops.Elsewhere): the inputs act as
        GPU tensors, tensors made without a device (and plain tensor attributes of a module, which
        `module.to(device)` leaves behind) act as CPU tensors, and mixing the two raises the error a
        GPU raises; `.to(x.device)`, `.type_as(x)` and `x.new_*` re-home them as on a GPU. A plain
        attribute that forward re-homes passes. With CUDA in use, the GPU's answers are also
        compared with the CPU's.
        """
        head = f"{what}: " if what else ""
        cases = [replace(c, elsewhere=True) for c in self.cases(grid, dtypes, ("cpu",))]
        for case in cases:
            # Portability alone: the stand-in's answer against the learner's own on the CPU, so
            # code that is wrong the same way everywhere is not failed twice for it.
            expected, cpu_fault = self.run(self.learner, probe, replace(case, elsewhere=False))
            if cpu_fault:
                raise CheckFailed(f"{head}it fails on the CPU already, so whether it runs on a GPU cannot be "
                                  f"told:\n  {_fault_text(cpu_fault)}\n  smallest failing case: {case.label}",
                                  case=case.label, fault=cpu_fault)
            got, fault = self.run(self.learner, probe, case)
            if fault:
                text = _fault_text(fault)
                if "stand-in for a GPU" in text:
                    problem = (f"on a GPU it fails: {text}\n  A tensor made without device= (or kept as a plain "
                               "attribute, which module.to(device) does not move) stays on the CPU")
                else:
                    problem = f"with its inputs on a (stand-in) GPU it failed, where it ran on the CPU:\n  {text}"
            else:
                difference = self._difference(expected, got, "values", False)
                if difference is None:
                    continue
                if "came without its values" in difference or "got 'meta'" in difference:
                    problem = (f"on a GPU its result would stay on the CPU, away from the inputs ({difference}): "
                               "it was made without device=")
                else:
                    problem = (f"with its inputs on a (stand-in) GPU it gave a different answer than on the CPU: "
                               f"{difference}")
            loose = ""
            if self.learner.loose:
                name, attrs = next(iter(self.learner.loose.items()))
                loose = (f"\n  {name} keeps {', '.join(attrs)} as a plain tensor attribute: module.to(device) does "
                         "not move it (register it with self.register_buffer(...), or move it in forward).")
            raise CheckFailed(
                f"{head}{problem}{loose}\n  Create tensors where the inputs are: "
                "torch.zeros(n, device=x.device, dtype=x.dtype), x.new_zeros(n), torch.zeros_like(x), "
                f"a registered buffer, or .to(x.device).\n  smallest failing case: {case.label}",
                case=case.label, diagnosis=self.diagnose(probe, cases), fault=fault)
        if "cuda" in self.devices:
            self.compare(probe, grid, level="values", dtypes=dtypes, devices=("cuda",), what=what)
            for case in self.cases(grid, dtypes, ("cuda",)):
                cpu_case = Case(case.params, case.dtype, "cpu", case.seed)
                on_cpu, _ = self.run(self.learner, probe, cpu_case)
                on_gpu, _ = self.run(self.learner, probe, case)
                problem = compare(_strip_device(on_cpu), _strip_device(on_gpu), "values", self.tolerance)
                if problem:
                    raise CheckFailed(f"{head}your code gives different answers on the CPU and the GPU: {problem}",
                                      case=case.label)

    def causal(self, probe: Probe, grid: list[dict[str, Any]], length: str, input: int | str = 0, dim: int = 1,
               what: str = "", lag: int = 0) -> None:
        """Fail when output position t depends on an input position after t (a leak from the future).

        For each position t of the output along `dim`, the probe is run with the upstream gradient
        zero everywhere but at t; the gradient reaching input `input` (a position or a name in the
        probe's `names`) must then be exactly zero at every position after t. `length` names the
        grid key holding the sequence length. The probe must ask for gradients (`grads=c.seed`).
        With `lag = 1`, output t may depend only on inputs before t (a shifted target, as in training
        with teacher forcing).
        """
        head = f"{what}: " if what else ""
        for params in grid:
            size = int(params[length])
            cases = [replace(c, grad_at=(dim, t)) for c in self.cases([params], ("float64",), ("cpu",))
                     for t in range(size)]
            for case in cases:
                got, fault = self.run(self.learner, probe, case)
                if fault:
                    raise CheckFailed(f"{head}{_fault_text(fault)}\n  case: {case.label}", case=case.label,
                                      fault=fault)
                grad = _input_grad(got, input)
                if grad is None or grad.values is None:
                    raise CheckFailed(f"{head}no gradient reached the input, so causality cannot be checked: "
                                      "something is detached", case=case.label)
                t = case.grad_at[1]
                first = t + 1 - lag
                total = grad.values.shape[dim]
                later = grad.values.narrow(dim, first, total - first) if first < total else None
                if later is not None and bool((later != 0).any()):
                    leaks = (later != 0).flatten(0, dim - 1).any(0) if dim > 0 else (later != 0)
                    leaked = int(torch.nonzero(leaks.reshape(leaks.shape[0], -1).any(-1))[0]) + first
                    raise CheckFailed(
                        f"{head}the output at position {t} depends on the input at position {leaked}, which comes "
                        f"after it: the model can see the future (is the target mask missing, inverted or "
                        f"upper-triangular?)\n  case: {case.label}",
                        case=case.label, diagnosis=self.diagnose(probe, cases))

    def same(self, probe: Callable[[Target], Any], message: str) -> None:
        """A structural check: `probe(target)` must give the learner what it gives the reference
        (e.g. the names of the buffers); `message` says what is wrong when it does not."""
        try:
            expected = probe(self.reference)
        except LearnerFault as fault:
            raise GraderBug(f"the reference failed: {_fault_text(fault.report)}") from None
        try:
            got = probe(self.learner)
        except LearnerFault as fault:
            raise CheckFailed(f"{message}\n  {_fault_text(fault.report)}", fault=fault.report) from None
        except SessionDied as died:
            raise CheckFailed(str(died)) from None
        if got != expected:
            diagnosis = None
            for mistake, target in self.mistakes:
                try:
                    if probe(target) == got:
                        diagnosis = mistake
                        break
                except LearnerFault:
                    continue
            raise CheckFailed(message, diagnosis=diagnosis)

    @staticmethod
    def fail(message: str) -> None:
        raise CheckFailed(message)

    @staticmethod
    def require(condition: bool, message: str) -> None:
        if not condition:
            raise CheckFailed(message)


def _input_grad(run: Any, which: int | str) -> Any:
    grads = run.get("grads") if isinstance(run, dict) else None
    if not isinstance(grads, dict):
        return None
    if isinstance(which, str):
        names = list(run.get("names") or ())
        if which in names:
            which = names.index(which)
        else:
            return (grads.get("kwargs") or {}).get(which)
    inputs = grads.get("inputs") or []
    return inputs[which] if which < len(inputs) else None


def _strip_device(tree: Any) -> Any:
    from dl_course.grading.wire import TensorData

    if isinstance(tree, TensorData):
        return TensorData(tree.values, tree.shape, tree.dtype, "any")
    if isinstance(tree, dict):
        return {k: _strip_device(v) for k, v in tree.items() if k != "names"}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_strip_device(v) for v in tree)
    return tree
