"""`grade.learns`: training the learner's model in its own process and judging it in the judge.

`Training` holds `Grade.learns` and its classifier verdict (mixed into `harness.Grade`, whose
learner, seed and progress it uses); the helpers put a training run's progress and its loss in
words and numbers (`_training_report`, `_loss_movement`) and find the trusted data function
(`_lookup`).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import torch

from dl_course.grading.cases import CheckFailed, GraderBug, _fault_text
from dl_course.grading.session import SessionDied
from dl_course.grading.targets import Target


class Training:
    """`Grade.learns` (see the module doc)."""

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



def _lookup(name: str) -> Any:
    import importlib

    module, attr = name.split(":", 1)
    return getattr(importlib.import_module(module), attr)
