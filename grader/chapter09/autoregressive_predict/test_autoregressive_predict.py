"""Hidden suite: autoregressive_predict (greedy generation with a target mask, detached feedback).

The decoder is the provided ToyDecoder (autoregressive_support.py, beside exercise.toml), built in
each target with seeded weights and handed to the learner's function. It has two layers of
masked self-attention, so the LAST position of its output (the only one kept) changes when the
target mask is missing or wrong: the value checks see the mask without having to record it.

The convention is the book's: predictions are fed back detached and returned detached (as
inputs[:, 1:]). The gradient check only asks that no gradient flows through the feedback loop: an
answer that carries no gradient at all passes, and so does one that keeps each prediction's own
decoder call in its graph (`per_step` below) while feeding back detached copies; an answer whose
gradient also runs through the fed-back predictions fails.
"""

import torch

from dl_course.grading.harness import CheckFailed
from dl_course.grading.targets import LocalTarget

from autoregressive_support import ToyDecoder

WHAT = "autoregressive_predict(decoder, states, first_input, steps, source_mask)"

# n batch, f features, d decoder width (and states'), ls source length, steps; mask: the source mask.
GRID = [
    dict(n=1, f=2, d=4, ls=2, steps=1, mask="none"),
    dict(n=1, f=4, d=8, ls=2, steps=2, mask="none"),
    dict(n=2, f=2, d=8, ls=3, steps=3, mask="padding"),
    dict(n=3, f=3, d=6, ls=4, steps=4, mask="none"),
    dict(n=2, f=1, d=4, ls=5, steps=5, mask="padding"),
    dict(n=4, f=2, d=8, ls=3, steps=6, mask="padding"),
]
NAMES = ("decoder", "states", "first_input", "steps", "source_mask")


def build(t, c):
    decoder = t.new("autoregressive_support:ToyDecoder", c.f, c.d)
    t.load_state(decoder, c.state_of(ToyDecoder, c.f, c.d))
    if c.device != "cpu" or c.dtype != torch.float32:
        t.to(decoder, c.device, c.dtype)
    return decoder


def arguments(t, c):
    decoder = build(t, c)
    states = c.randn(c.n, c.ls, c.d)
    first_input = c.randn(c.n, 1, c.f)
    source_mask = c.keep_mask(c.n, 1, c.ls) if c.mask == "padding" else None
    return decoder, states, first_input, c.steps, source_mask


def probe(t, c):
    return t.call("autoregressive_predict", *arguments(t, c))


def probe_grads(t, c):
    return t.call("autoregressive_predict", *arguments(t, c), grads=c.seed, names=NAMES)


def test_shape(grade):
    """Returns the predictions only: (N, steps, F)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """The predictions keep the inputs' dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


def test_values(grade):
    """Each step runs the decoder on everything so far, under a lower-triangular target mask"""
    grade.compare(probe, GRID, level="values", what=WHAT)


def _per_step(decoder, states, first_input, steps, source_mask=None):
    """Trusted: detached feedback, but each returned prediction keeps the graph of its own step."""
    inputs, predictions = first_input, []
    for _ in range(steps):
        t = inputs.shape[1]
        mask = torch.ones(t, t, dtype=torch.bool, device=inputs.device).tril().unsqueeze(0)
        last = decoder(inputs, states, source_mask, mask)[:, -1:]
        predictions.append(last)
        inputs = torch.cat([inputs, last.detach()], dim=1)
    return torch.cat(predictions, dim=1)


def per_step():
    return LocalTarget({"autoregressive_predict": _per_step}, "predictions with their own step's graph")


def _carries_no_gradient(run):
    """True when the answer is detached, or nothing non-zero reached states or first_input."""
    grads = run.get("grads") if isinstance(run, dict) else None
    if not isinstance(grads, dict) or not grads.get("connected"):
        return True
    for g in list(grads.get("inputs") or []) + list((grads.get("kwargs") or {}).values()):
        values = getattr(g, "values", None)
        if values is not None and bool((values != 0).any()):
            return False
    return True


def test_gradients(grade):
    """No gradient flows through the feedback loop: each fed-back prediction is detached"""
    cases = grade.cases(GRID[1:5])
    for case in cases:
        got, fault = grade.run(grade.learner, probe_grads, case)
        if fault:
            raise CheckFailed(f"{WHAT} then backward: {fault.get('type')}: {fault.get('message')}\n"
                              f"  case: {case.label}", case=case.label, fault=fault)
    if all(_carries_no_gradient(grade.run(grade.learner, probe_grads, case)[0]) for case in cases):
        return  # the book's way: detached predictions
    grade.compare(probe_grads, GRID[1:5], grads=True, against=per_step(),
                  what=WHAT + " then backward (the predictions carry a gradient, so it must come from each "
                  "prediction's own decoder call only, not through the predictions fed back before it)")


def test_device(grade):
    """Works on whatever device the inputs live on (the target mask included)"""
    grade.portable(probe, GRID[:4], what=WHAT)
