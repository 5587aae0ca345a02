"""The harness that hidden suites use, driven with trusted local targets (no learner process)."""

from __future__ import annotations

import pytest
import torch

from dl_course.course.loader import DEFAULT_TOLERANCE
from dl_course.grading.harness import CheckFailed, Grade
from dl_course.grading.mistakes import Mistake
from dl_course.grading.targets import LocalTarget


def attend(x, causal=True):
    scores = x @ x.transpose(-2, -1)
    if causal:
        size = x.shape[1]
        mask = torch.ones(size, size, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(-1) @ x


def leaky(x):
    return attend(x, causal=False)


def grade_for(learner_fn, mistakes=()):
    learner = LocalTarget({"attend": learner_fn}, "learner")
    reference = LocalTarget({"attend": attend}, "the reference")
    known = [(Mistake(m.__name__, f"{m.__name__} explained", "attend", m), LocalTarget({"attend": m}, f"mistake {m.__name__}"))
             for m in mistakes]
    return Grade(learner, reference, known, dict(DEFAULT_TOLERANCE), seed=3)


def probe(t, c):
    return t.call("attend", c.randn(c.n, c.L, 3), grads=c.seed, names=("x",))


GRID = [dict(n=2, L=4)]


def test_causal_passes_a_masked_model_and_names_the_leak_of_an_unmasked_one():
    grade_for(attend).causal(probe, GRID, length="L", input="x")
    with pytest.raises(CheckFailed) as err:
        grade_for(leaky, [leaky]).causal(probe, GRID, length="L", input="x")
    assert "output at position 0 depends on the input at position 1" in err.value.message
    assert err.value.diagnosis.id == "leaky"


def test_compare_reports_smallest_failing_case_and_diagnosis():
    def doubled(x):
        return attend(x) * 2

    grid = [dict(n=3, L=5), dict(n=1, L=2)]
    with pytest.raises(CheckFailed) as err:
        grade_for(doubled, [leaky, doubled]).compare(probe, grid, level="values")
    assert "n=1, L=2" in err.value.message and "the worst is at index" in err.value.message
    assert err.value.diagnosis.id == "doubled"
    grade_for(attend).compare(probe, grid, level="values")
    grade_for(attend).compare(probe, grid, grads=True)


def test_gradient_check_catches_a_detach():
    def detached(x):
        return attend(x.detach())

    with pytest.raises(CheckFailed, match="does not require grad|no gradient reached"):
        grade_for(detached).compare(probe, GRID, grads=True)



def test_gradients_reach_tensors_inside_a_tuple_argument():
    """An LSTM cell takes its state as a tuple (h, c): the gradient of each is compared too."""
    def step(x, state):
        h, c = state
        return attend(x) * h + c

    def detached_state(x, state):
        return step(x, tuple(s.detach() for s in state))

    def tuple_probe(t, c):
        shape = (c.n, c.L, 3)
        return t.call("attend", c.randn(*shape), (c.randn(*shape), c.randn(*shape)), grads=c.seed,
                      names=("x", "state"))

    def grade(fn):
        return Grade(LocalTarget({"attend": fn}, "learner"), LocalTarget({"attend": step}, "the reference"), [],
                     dict(DEFAULT_TOLERANCE), seed=3)

    grade(step).compare(tuple_probe, GRID, grads=True)
    with pytest.raises(CheckFailed, match="gradient of the input 'state'"):
        grade(detached_state).compare(tuple_probe, GRID, grads=True)

def test_portable_catches_tensors_created_on_the_default_device():
    def on_default_device(x):
        size = x.shape[1]
        mask = torch.ones(size, size, dtype=torch.bool).tril()  # no device=
        return (x @ x.transpose(-2, -1)).masked_fill(~mask, float("-inf")).softmax(-1) @ x

    def returned_on_the_cpu(x):
        return torch.ones(*x.shape)  # no device=: on a GPU the answer stays on the CPU

    grade_for(attend).portable(probe, GRID)
    with pytest.raises(CheckFailed, match="on a GPU it fails: .*Expected all tensors to be on the same device"):
        grade_for(on_default_device).portable(probe, GRID)
    with pytest.raises(CheckFailed, match="result would stay on the CPU"):
        grade_for(returned_on_the_cpu).portable(probe, GRID)


def _masked(x, mask):
    return (x @ x.transpose(-2, -1)).masked_fill(~mask, float("-inf")).softmax(-1) @ x


@pytest.mark.parametrize("move", ["to_device", "to_tensor", "type_as", "cuda_like_new", "scalar"])
def test_portable_passes_what_a_gpu_runs(move):
    """Tensors made on the CPU and then moved where the inputs are run on a GPU: they pass."""
    def learner(x):
        size = x.shape[1]
        cpu = torch.ones(size, size).tril()
        mask = {"to_device": lambda: cpu.bool().to(x.device),
                "to_tensor": lambda: cpu.to(x).bool(),
                "type_as": lambda: cpu.type_as(x).bool(),
                "cuda_like_new": lambda: x.new_ones(size, size).tril().bool(),
                "scalar": lambda: (torch.ones(size, size, device=x.device) * torch.tensor(1.0)).tril().bool()}[move]()
        return _masked(x, mask)

    grade_for(learner).portable(probe, GRID)


class _Rehomed(torch.nn.Module):
    """A plain tensor attribute (the book keeps masks this way), moved to the input's device in forward."""

    def __init__(self, move: bool):
        super().__init__()
        self.move = move
        self.mask = torch.ones(4, 4, dtype=torch.bool).tril()

    def forward(self, x):
        mask = self.mask.to(x.device) if self.move else self.mask
        return _masked(x, mask[:x.shape[1], :x.shape[1]])


def test_a_plain_attribute_fails_only_when_a_gpu_would_fail():
    def module_probe(t, c):
        h = t.new("M")
        t.to(h, c.device, c.dtype)
        return t.forward(h, c.randn(c.n, c.L, 3))

    def grade(move):
        return Grade(LocalTarget({"M": lambda: _Rehomed(move)}, "learner"),
                     LocalTarget({"M": lambda: _Rehomed(True)}, "the reference"), [], dict(DEFAULT_TOLERANCE), seed=3)

    grade(True).portable(module_probe, GRID)
    with pytest.raises(CheckFailed, match="on a GPU it fails"):
        grade(False).portable(module_probe, GRID)


def test_a_forbidden_function_is_seen_by_any_route():
    """Forbidding torch.gru_cell also catches the aten op reached directly, and leaves other ops alone."""
    import torch

    from dl_course.grading import sandbox
    from dl_course.grading.sandbox import ApiWatch

    watch = ApiWatch(["torch.gru_cell"], lambda filename: True)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    w_ih, w_hh, b = torch.randn(12, 3), torch.randn(12, 4), torch.randn(12)
    watch.start()
    try:
        (x @ w_ih.T).tanh()  # ordinary ops: nothing recorded
        assert watch.seen == {}
        # Seen by the watch, and refused at the dispatcher (which no Python state switches off).
        with pytest.raises(RuntimeError, match="forbidden"):
            torch.ops.aten.gru_cell.default(x, h, w_ih, w_hh, b, b)
        assert "torch.ops.aten.gru_cell" in watch.seen
        watch.seen.clear()
        with pytest.raises(RuntimeError, match="forbidden"):
            torch.ops.aten.gru_cell(x, h, w_ih, w_hh, b, b)
        assert watch.seen
        with torch._C.DisableTorchFunction(), pytest.raises(RuntimeError, match="forbidden"):
            torch.gru_cell(x, h, w_ih, w_hh, b, b)
    finally:
        watch.mode.__exit__(None, None, None)
        sandbox._LIBRARY._destroy()  # this test's process goes on (a learner's never does)
        sandbox._LIBRARY = None


def _scaled_attention(x, keep, scale=True, fill=float("-inf")):
    scores = x @ x.transpose(-2, -1) / (x.shape[-1] ** 0.5 if scale else 1.0)
    return scores.masked_fill(~keep, fill).softmax(-1) @ x


def test_a_large_negative_fill_is_diagnosed_as_the_mistake_it_makes():
    """A learner who fills with -1e9 (uniform weights on a row masked everywhere, where -inf gives
    NaN) and forgets the scale is still named 'no_scale', whose reference fills with -inf."""
    def reference(x, keep):
        return _scaled_attention(x, keep)

    def no_scale(x, keep):
        return _scaled_attention(x, keep, scale=False)

    def learner(x, keep):
        return _scaled_attention(x, keep, scale=False, fill=-1e9)

    def masked_probe(t, c):
        keep = torch.ones(c.n, c.L, c.L, dtype=torch.bool)
        keep[:, 0, :] = False  # the first query may attend to nothing
        keep[:, 1:, -1] = False
        return t.call("attend", c.randn(c.n, c.L, 3), keep)

    mistake = Mistake("no_scale", "the scores are not divided by sqrt(d_k)", "attend", no_scale)
    grade = Grade(LocalTarget({"attend": learner}, "learner"), LocalTarget({"attend": reference}, "the reference"),
                  [(mistake, LocalTarget({"attend": no_scale}, "mistake no_scale"))], dict(DEFAULT_TOLERANCE), seed=3)
    with pytest.raises(CheckFailed) as err:
        grade.compare(masked_probe, GRID, level="values")
    assert err.value.diagnosis is not None and err.value.diagnosis.id == "no_scale"


# -- learns with a classification loss ------------------------------------------------------------
def two_blobs(batch, generator):
    """Two classes in the plane, apart along x (trusted data for the training tests): float 0/1
    targets (N, 1) for BCEWithLogitsLoss."""
    label = torch.randint(0, 2, (batch, 1), generator=generator)
    x = torch.randn(batch, 2, generator=generator) * 0.5 + (label * 2 - 1) * torch.tensor([[1.5, 0.0]])
    return {"train_args": (x,), "eval_args": (x,), "target": label.float()}


def three_blobs(batch, generator):
    """Three classes around three centres: class indices (N,) for CrossEntropyLoss."""
    label = torch.randint(0, 3, (batch,), generator=generator)
    centres = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x = centres[label] + 0.4 * torch.randn(batch, 2, generator=generator)
    return {"train_args": (x,), "eval_args": (x,), "target": label}


class _NaNLogits(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x):
        out = self.linear(x)
        return out if self.training else out * float("nan")


class _Probabilities(torch.nn.Module):
    """A classic slip: sigmoid before BCEWithLogitsLoss, so every 'logit' is above 0."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def _classifier_grade(namespace):
    events = []
    grade = Grade(LocalTarget(namespace, "learner"), LocalTarget({}, "the reference"), [], dict(DEFAULT_TOLERANCE),
                  seed=5, progress=events.append)
    return grade, events


def test_learns_judges_a_binary_classifier_by_accuracy():
    grade, events = _classifier_grade({"Model": lambda: torch.nn.Linear(2, 1)})
    accuracy = grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=0.9, steps=60, batch=32,
                            lr=0.05, eval_size=200, loss="bce_logits", what="the line", examples="points")
    assert 0.9 <= accuracy <= 1.0
    assert events[-1].startswith("the line learned: accuracy") and "200 fresh points" in events[-1]
    # The same run judged at an accuracy nobody reaches fails, saying what it reached.
    grade, _ = _classifier_grade({"Model": lambda: torch.nn.Linear(2, 1)})
    with pytest.raises(CheckFailed) as err:
        grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=1.01, steps=60, batch=32, lr=0.05,
                     eval_size=200, loss="bce_logits", examples="points")
    assert f"the accuracy on 200 fresh points is {accuracy:.3f}; it must be at least 1.01" in err.value.message
    assert "The training loss went from" in err.value.message


def test_learns_judges_a_multiclass_classifier_by_argmax():
    grade, _ = _classifier_grade({"Model": lambda: torch.nn.Linear(2, 3)})
    accuracy = grade.learns(lambda t: t.new("Model"), "test_harness:three_blobs", threshold=0.9, steps=80, batch=32,
                            lr=0.05, eval_size=200, loss="cross_entropy")
    assert accuracy >= 0.9
    # One output per example is not logits per class: a clear failure, in the learner's process.
    grade, _ = _classifier_grade({"Model": lambda: torch.nn.Linear(2, 1)})
    with pytest.raises(CheckFailed) as err:
        grade.learns(lambda t: t.new("Model"), "test_harness:three_blobs", threshold=0.9, steps=5, loss="cross_entropy")
    assert "while training" in err.value.message and "(32, n_classes)" in err.value.message


def test_learns_fails_nan_logits_and_probabilities_cleanly():
    grade, _ = _classifier_grade({"Model": _NaNLogits})
    with pytest.raises(CheckFailed) as err:
        grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=0.9, steps=20, lr=0.05,
                     eval_size=64, loss="bce_logits")
    assert "64 of the 64 logits" in err.value.message and "NaN or infinite" in err.value.message
    # Probabilities instead of logits: every example lands in class 1, so about half are right.
    grade, _ = _classifier_grade({"Model": _Probabilities})
    with pytest.raises(CheckFailed) as err:
        grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=0.9, steps=40, lr=0.05,
                     eval_size=200, loss="bce_logits")
    assert "the accuracy on 200 fresh sequences is 0.4" in err.value.message or \
        "the accuracy on 200 fresh sequences is 0.5" in err.value.message, err.value.message


def test_learns_fails_a_loss_that_turns_nan_and_a_wrong_shape_without_crashing():
    class Exploding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x):
            return self.linear(x) * float("inf")

    grade, events = _classifier_grade({"Model": Exploding})
    with pytest.raises(CheckFailed) as err:
        grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=0.9, steps=10, eval_size=16,
                     loss="bce_logits")
    assert "NaN or infinite" in err.value.message and "at step" in err.value.message or \
        "from the first step" in err.value.message, err.value.message
    assert all(e["loss"] is None or isinstance(e["loss"], float) for e in events if isinstance(e, dict))
    grade, _ = _classifier_grade({"Model": lambda: torch.nn.Linear(2, 2)})
    with pytest.raises(CheckFailed) as err:
        grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=0.9, steps=5, loss="bce_logits")
    assert "logits of shape (32, 1)" in err.value.message


def test_learns_refuses_a_loss_outside_the_fixed_list():
    from dl_course.grading.harness import GraderBug

    grade, _ = _classifier_grade({"Model": lambda: torch.nn.Linear(2, 1)})
    with pytest.raises(GraderBug):
        grade.learns(lambda t: t.new("Model"), "test_harness:two_blobs", threshold=0.9, steps=5, loss="hinge")


def test_torch_modules_the_grader_builds_warn_nobody():
    """A suite may build a PyTorch module in the learner's process (`t.new("torch.nn:Transformer",
    ...)`) for the learner's code to wrap: torch's own warnings about it are not the learner's
    output. A learner's class that warns still does."""
    import warnings

    from dl_course.grading.ops import Executor

    class Loud(torch.nn.Module):
        def __init__(self):
            super().__init__()
            warnings.warn("the learner's own warning")

    executor = Executor({"Loud": Loud})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        executor.op_new("torch.nn:Transformer", 1, kwargs=dict(d_model=6, nhead=3, num_encoder_layers=1,
                                                               num_decoder_layers=1, dim_feedforward=8,
                                                               batch_first=True))
        assert [str(w.message) for w in seen] == []
        executor.op_new("Loud", 2)
    assert [str(w.message) for w in seen] == ["the learner's own warning"]
