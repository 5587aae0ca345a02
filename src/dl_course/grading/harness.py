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
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

import torch

from dl_course.course.model import Tolerance
from dl_course.grading.compare import compare
from dl_course.grading.mistakes import Mistake
from dl_course.grading.ops import LearnerFault
from dl_course.grading.targets import LocalTarget, Run, Target
from dl_course.grading.wire import TensorData
from dl_course.grading.session import SessionDied

__all__ = ["Case", "CaseRun", "Grade", "CheckFailed", "GraderBug", "Probe", "figure_of"]

Probe = Callable[[Target, "CaseRun"], Any]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# A learner this many times as far from a trusted stand-in as the reference is (on top of the
# tolerance) is still right: see Harness._beyond_noise.
NOISE_FACTOR = 4.0
# Seconds one exercise's failed checks may spend, all together, looking for variants of the
# reference that explain them.
VARIANT_BUDGET_S = 3.0
FIGURE_ROWS, FIGURE_COLUMNS = 40, 64
"""The largest picture a figure keeps; bigger tensors are cut (and the figure says so)."""


class CheckFailed(Exception):
    """A check did not pass; `message` is for the learner."""

    def __init__(self, message: str, case: str | None = None, diagnosis: Mistake | None = None,
                 fault: dict | None = None):
        super().__init__(message)
        self.message, self.case, self.diagnosis, self.fault = message, case, diagnosis, fault


class GraderBug(Exception):
    """The reference or the suite itself failed: never the learner's fault."""


@dataclass(frozen=True)
class Case:
    """One input configuration: sizes, dtype, device and the seed its tensors are drawn from."""

    params: dict[str, Any]
    dtype: torch.dtype | None
    """None for cases whose inputs have no floating dtype (then `CaseRun.dtype` is float32)."""
    device: str
    seed: int
    elsewhere: bool = False
    """Run on a stand-in GPU: tensors made without a device land away from the inputs (see ops.Elsewhere)."""
    grad_at: tuple[int, int] | None = None
    """Backpropagate only from this (dim, index) of each output (see `Grade.causal`)."""

    @property
    def label(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.params.items())
        dtype = "" if self.dtype is None else str(self.dtype).replace("torch.", "") + " "
        device = "a stand-in GPU (inputs there, tensors made without device= on the CPU)" if self.elsewhere \
            else self.device
        # No seed here: each case's seed is derived from the run's, and the run's seed (shown once
        # with the verdict) is the one that `--seed` takes to replay every case exactly.
        return f"{sizes}{', ' if sizes else ''}{dtype}on {device}"

    @property
    def size(self) -> int:
        return math.prod(int(v) for v in self.params.values() if isinstance(v, int) and not isinstance(v, bool))

    def key(self) -> tuple:
        return (tuple(sorted(self.params.items())), str(self.dtype), self.device, self.seed, self.elsewhere,
                self.grad_at)


class CaseRun:
    """A case being run: its parameters as attributes and a fresh generator for its tensors."""

    def __init__(self, case: Case):
        self.case = case
        self.params = case.params
        self.dtype = case.dtype or torch.float32
        self.device, self.seed = case.device, case.seed
        self.generator = torch.Generator().manual_seed(case.seed)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["params"][name]
        except KeyError:
            raise AttributeError(name) from None

    def _place(self, t: torch.Tensor) -> torch.Tensor:
        if self.device == "meta":
            return torch.empty(t.shape, dtype=t.dtype, device="meta")
        return t.to(self.device)

    def randn(self, *shape: int, dtype: torch.dtype | None = None) -> torch.Tensor:
        t = torch.randn(shape, generator=self.generator, dtype=torch.float64).to(dtype or self.dtype)
        return self._place(t)

    def rand(self, *shape: int) -> torch.Tensor:
        return self._place(torch.rand(shape, generator=self.generator, dtype=torch.float64).to(self.dtype))

    def randint(self, low: int, high: int, *shape: int) -> torch.Tensor:
        return self._place(torch.randint(low, high, shape, generator=self.generator))

    def keep_mask(self, *shape: int, p: float = 0.7) -> torch.Tensor:
        """A random bool mask (True = keep) with at least one True along the last dimension."""
        m = torch.rand(shape, generator=self.generator) < p
        m[..., 0] = True
        return self._place(m)

    def state_of(self, module_cls: Callable[..., torch.nn.Module], *args: Any, **kwargs: Any) -> dict:
        """The state dict of a freshly built module, seeded by this case (float32, CPU)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            module = module_cls(*args, **kwargs)
        return {k: v.detach().clone() for k, v in module.state_dict().items()}


@dataclass
class Grade:
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

    def learns(self, build: Callable[[Target], Any], data: str, threshold: float, steps: int = 300,
               batch: int = 32, lr: float = 1e-3, eval_size: int = 256,
               chunk: int = 20, what: str = "the model", seed: int | None = None, loss: str = "mse",
               examples: str = "sequences") -> float:
        """Train the learner's model and require a low error (or, for a classifier, a high accuracy) on fresh data.

        `build(target)` returns a handle to a new model; `data` names a trusted `module:function`
        called as fn(batch, generator) → {"train_args": (...), "eval_args": (...), "target": tensor}.
        Training (Adam) runs in the learner's process in chunks of `chunk` steps, minimising `loss`:
        "mse" (the default: mean squared error, and `threshold` is the largest mean squared error
        allowed on fresh data), "bce_logits" (BCEWithLogitsLoss; the target holds floats 0/1 of the
        output's shape, and a logit above 0 means class 1) or "cross_entropy" (CrossEntropyLoss; the
        target holds class indices (N,), the output is logits (N, C), and the class is the argmax).
        For the two classification losses `threshold` is the smallest accuracy allowed on fresh data.
        After each chunk, `progress` gets a dict `{"text": "training …: step 20/300, loss 0.1234",
        "step": 20, "steps": 300, "loss": 0.1234, "losses": [the chunk's losses]}` (a loss that is
        not finite is None there). It always runs all `steps` steps: the budget is in steps, never in
        seconds, so a slow machine reaches the verdict a fast one does (the exercise's time limit,
        which ends the learner's process, is the only clock). The error (or accuracy) on
        `eval_size` fresh `examples` is then computed here, in the judge, from the outputs that come back,
        after checking their shape, dtype and finiteness. Returns that error (or accuracy). `seed`
        fixes the batches (default: the check's seed).
        """
        from dl_course.grading.ops import TRAINING_LOSSES
        from dl_course.grading.ops import LearnerFault as _Fault

        if loss not in TRAINING_LOSSES:
            raise GraderBug(f"learns: unknown loss {loss!r}; expected one of {sorted(TRAINING_LOSSES)}")
        learner = self.learner
        fixed = seed is not None
        seed = self.seed if seed is None else seed
        try:
            learner.seed(seed)
            model = build(learner)
            done, losses, started = 0, [], time.monotonic()
            while done < steps:
                n = min(chunk, steps - done)
                chunk_losses = list(learner.train_steps(model, data, n, batch, lr, seed, start=done, loss=loss))
                losses += chunk_losses
                done += n
                self.progress(_training_report(what, done, steps, chunk_losses))
            learner.train(model, False)
            fresh = _lookup(data)(eval_size, torch.Generator().manual_seed(seed + 10**6))
            run = learner.call(model, *fresh["eval_args"])
        except _Fault as fault:
            raise CheckFailed(f"while training {what}: {_fault_text(fault.report)}", fault=fault.report) from None
        except SessionDied as died:
            raise CheckFailed(f"while training {what}: {died}") from None
        seconds = time.monotonic() - started
        target = fresh["target"]
        pred = run["output"]
        from dl_course.grading.wire import TensorData

        case = "the grader's training run" + (" (fixed: the same on every run)" if fixed else "")
        if loss != "mse":
            return self._judge_classifier(pred, target, loss, threshold, losses, done, seconds, eval_size, what,
                                          examples, case)
        if not isinstance(pred, TensorData) or pred.values is None or pred.shape != tuple(target.shape):
            raise CheckFailed(f"in eval mode {what} should return a tensor of shape {tuple(target.shape)}, got "
                              f"{pred!r}")
        error = float(((pred.values.double() - target.double()) ** 2).mean())
        if not error == error or error >= threshold:
            raise CheckFailed(
                f"after {done} training steps ({seconds:.1f} s) the mean squared error on {eval_size} fresh sequences "
                f"is {error:.4f}; it must be under {threshold:g}. The training loss went from {losses[0]:.4f} to "
                f"{losses[-1]:.4f}." if losses else f"{what} did not train",
                case=case)
        self.progress(f"{what} learned: error {error:.4f} (threshold {threshold:g})")
        return error

    def _judge_classifier(self, pred: Any, target: torch.Tensor, loss: str, threshold: float, losses: list[float],
                          done: int, seconds: float, eval_size: int, what: str, examples: str, case: str) -> float:
        """The accuracy of logits that came back from the learner, validated before use (see `learns`)."""
        from dl_course.grading.wire import TensorData

        n = int(target.shape[0])
        if loss == "bce_logits":
            want = f"logits of shape {tuple(target.shape)} (one per example: above 0 means class 1)"
            fits = isinstance(pred, TensorData) and pred.shape == tuple(target.shape)
        else:
            classes = int(target.max()) + 1 if target.numel() else 1
            want = f"logits of shape ({n}, n_classes) (one score per class)"
            fits = isinstance(pred, TensorData) and len(pred.shape) == 2 and pred.shape[0] == n and \
                pred.shape[1] >= max(classes, 2)
        if not fits or pred.values is None or not pred.values.is_floating_point():
            got = f"{pred!r}" if isinstance(pred, TensorData) else f"a {type(pred).__name__}"
            raise CheckFailed(f"in eval mode {what} should return {want} as a floating tensor, got {got}", case=case)
        if pred.values.shape != tuple(pred.shape):
            raise CheckFailed(f"in eval mode {what} returned a malformed tensor", case=case)
        logits = pred.values.double()
        moved = _loss_movement(losses)
        if not bool(torch.isfinite(logits).all()):
            bad = int((~torch.isfinite(logits)).sum())
            raise CheckFailed(f"after {done} training steps ({seconds:.1f} s) {bad} of the {logits.numel()} logits "
                              f"{what} gives on {eval_size} fresh {examples} are NaN or infinite, so they classify "
                              f"nothing. {moved}", case=case)
        if loss == "bce_logits":
            right = (logits > 0) == (target.reshape(logits.shape) > 0.5)
        else:
            right = logits.argmax(dim=1) == target.reshape(n).long()
        accuracy = float(right.double().mean())
        if accuracy < threshold:
            raise CheckFailed(f"after {done} training steps ({seconds:.1f} s) the accuracy on {eval_size} fresh "
                              f"{examples} is {accuracy:.3f}; it must be at least {threshold:g}. {moved}", case=case)
        self.progress(f"{what} learned: accuracy {accuracy:.3f} on {eval_size} fresh {examples} "
                      f"(threshold {threshold:g})")
        return accuracy

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


def _training_report(what: str, done: int, steps: int, losses: list[float]) -> dict:
    """What `learns` reports after a chunk: the human line and the numbers behind it (JSON-safe)."""
    last = losses[-1] if losses else float("nan")
    return {"text": f"training {what}: step {done}/{steps}, loss {last:.4f}", "step": done, "steps": steps,
            "loss": _finite(last), "losses": [_finite(x) for x in losses]}


def _loss_movement(losses: list[float]) -> str:
    """How the training loss moved, in a sentence (naming the step where it stopped being finite)."""
    if not losses:
        return "It did not train."
    for step, x in enumerate(losses, 1):
        if not math.isfinite(x) and step == 1:
            return f"The training loss was {x} from the first step (a NaN or an infinity)."
        if not math.isfinite(x):
            return (f"The training loss went from {losses[0]:.4f} to {x} at step {step} (a NaN or an infinity: "
                    "something divides by zero, takes the log of 0 or overflows).")
    return f"The training loss went from {losses[0]:.4f} to {losses[-1]:.4f}."


def _finite(x: Any) -> float | None:
    """A plain float, or None for NaN and infinities (which strict JSON cannot hold)."""
    x = float(x)
    return x if math.isfinite(x) else None


# -- figures ----------------------------------------------------------------------------------
def _showcase(cases: list[Case]) -> Case:
    """The case pictured: the largest float32 (or dtype-less) one on the CPU among `cases`."""
    for pool in ([c for c in cases if c.device == "cpu" and c.dtype in (None, torch.float32)],
                 [c for c in cases if c.device == "cpu"], cases):
        if pool:
            return pool[-1]  # cases are sorted smallest first
    raise ValueError("no cases")


def _pick(result: Any, path: Any) -> Any:
    """The part of a probe's result that `path` names (see `Grade.compare`'s `figure`), or None."""
    from dl_course.grading.wire import TensorData

    value = result["output"] if isinstance(result, Run) else result
    if path is True:
        return value if isinstance(value, TensorData) else None
    for step in path if isinstance(path, tuple) else (path,):
        if isinstance(value, (tuple, list)) and isinstance(step, int) and not isinstance(step, bool) \
                and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return None
    return value if isinstance(value, TensorData) else None


def _plane(values: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """A 2-D view: index 0 along leading dimensions (a vector is one row, a scalar one cell)."""
    leading = []
    while values.dim() > 2:
        values = values[0]
        leading.append(0)
    if values.dim() < 2:
        values = values.reshape(1, -1)
    return values, leading


def _cells(plane: torch.Tensor) -> list[list[float | None]]:
    rows = plane.double().tolist()
    return [[round(x, 4) if math.isfinite(x) else None for x in row] for row in rows]


def figure_of(expected: Any, got: Any, path: Any, title: str | None, case: str) -> dict:
    """A small picture of one output of a case, the reference's and the learner's side by side.

    Plain data only (lists of floats, rounded to 4 decimals; None where a value is NaN or infinite),
    at most FIGURE_ROWS × FIGURE_COLUMNS cells: tensors with more than two dimensions are shown at
    index 0 of each leading dimension. `got` is None when the learner's side is missing, failed or
    has another shape than the reference's.
    """
    e = _pick(expected, path)
    if e is None or e.values is None:
        raise GraderBug(f"figure={path!r} does not name a tensor with values in the reference's output")
    g = _pick(got, path) if got is not None else None
    plane, leading = _plane(e.values)
    mine = None
    if g is not None and g.values is not None and tuple(g.values.shape) == tuple(e.values.shape):
        mine = _plane(g.values)[0]
    rows, columns = plane.shape
    truncated = rows > FIGURE_ROWS or columns > FIGURE_COLUMNS
    plane = plane[:FIGURE_ROWS, :FIGURE_COLUMNS]
    if mine is not None:
        mine = mine[:FIGURE_ROWS, :FIGURE_COLUMNS]
    if title is None:
        where = "output" + "".join(f"[{s!r}]" for s in (path if isinstance(path, tuple) else
                                                          () if path is True else (path,)))
        title = where + (f" at [{', '.join(map(str, leading))}]" if leading else "")
    return {"title": title, "case": case, "kind": "bool" if e.values.dtype == torch.bool else "float",
            "shape": list(e.shape), "expected": _cells(plane), "got": None if mine is None else _cells(mine),
            "truncated": truncated}


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


def _fault_text(fault: dict) -> str:
    text = f"raised {fault.get('type')}: {fault.get('message')}".rstrip(": ")
    if fault.get("traceback"):
        text += "\n" + str(fault["traceback"]).rstrip()
    return text


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


def _lookup(name: str) -> Any:
    import importlib

    module, attr = name.split(":", 1)
    return getattr(importlib.import_module(module), attr)


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
