"""What a check runs on, and how a check fails: the vocabulary of a hidden suite.

`Case` is one input configuration (sizes, dtype, device, seed) and `CaseRun` the case as a probe
sees it (its parameters as attributes, a seeded generator for its tensors); a `Probe` drives a
target through one case. `CheckFailed` carries a sentence for the learner, `GraderBug` says the
reference or the suite itself failed; `_fault_text` puts a learner's exception in words.
Re-exported by `dl_course.grading.harness`, where suites import them from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from dl_course.grading.mistakes import Mistake
from dl_course.grading.targets import Target

__all__ = ["Case", "CaseRun", "CheckFailed", "GraderBug", "Probe", "DTYPES"]

Probe = Callable[[Target, "CaseRun"], Any]
DTYPES = {"float32": torch.float32, "float64": torch.float64}


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


def _fault_text(fault: dict) -> str:
    text = f"raised {fault.get('type')}: {fault.get('message')}".rstrip(": ")
    if fault.get("traceback"):
        text += "\n" + str(fault["traceback"]).rstrip()
    return text
