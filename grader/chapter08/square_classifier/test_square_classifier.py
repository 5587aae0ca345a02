"""Hidden suite: square_classifier (the chapter's capstone).

The learner chooses the recurrent layer (nn.RNN, nn.GRU or nn.LSTM, stacked or bidirectional or
not), so no reference weights can be loaded into their model and no values compared with the
reference's. The checks judge what every right model shares, each as a plain value computed the
same way from the learner's model, the reference and each known mistake (so a mistake that gives
the learner's value names the misconception): a recurrent layer among the parameters; logits of
shape (N, 1); each sequence's logit unchanged by how far the batch is padded and by the other
sequences in it; logits rather than probabilities; the device; and last a training run in the
learner's process (BCEWithLogitsLoss, fixed seeds), judged here by the accuracy on fresh walks.
"""

import pytest
from square_sequences import make_batch

import torch

from dl_course.grading.harness import CheckFailed
from dl_course.grading.targets import LearnerFault, SessionDied
from dl_course.grading.wire import TensorData

SIZES = dict(n_features=2, hidden_dim=8, n_outputs=1)
# Padded batches, given by their lengths: never as many sequences as steps (N != L), so a layer
# that reads (N, L, F) as (L, N, F) shows in the shape; some sequences shorter than the longest.
BATCHES = [(3, 1, 4, 2, 4), (2, 4, 4)]
INIT_SEED = 11


# -- helpers: plain values computed alike from the learner, the reference and the mistakes ----------
def padded(lengths, extra=0, seed=0, dtype=torch.float32):
    """A batch of random walks with these lengths, zero-padded to the longest (+ `extra` columns)."""
    g = torch.Generator().manual_seed(seed)
    size = max(lengths) + extra
    x = torch.randn(len(lengths), size, 2, generator=g, dtype=torch.float64)
    real = torch.arange(size) < torch.tensor(lengths).unsqueeze(1)
    return (x * real.unsqueeze(2)).to(dtype), torch.tensor(lengths)


def model(t, dtype=torch.float32):
    t.seed(INIT_SEED)
    handle = t.new("SquareClassifier", **SIZES)
    t.to(handle, "cpu", dtype)
    t.train(handle, False)
    return handle


def logits(t, handle, x, lengths):
    return t.forward(handle, x, lengths)["output"]


def shape_of(out):
    if isinstance(out, TensorData):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return f"a {type(out).__name__} of {len(out)}"
    return f"a {type(out).__name__}"


def expect(grade, feature, explain):
    """`feature(target)` must give the learner what it gives the reference; otherwise fail with
    `explain(got)`, naming the first known mistake that gives the same value."""
    wanted = feature(grade.reference)
    try:
        got = feature(grade.learner)
    except LearnerFault as fault:
        report = fault.report
        raise CheckFailed(f"model(x, lengths) raised {report.get('type')}: {report.get('message')}",
                          fault=report) from None
    except SessionDied as died:
        raise CheckFailed(str(died)) from None
    if got == wanted:
        return
    diagnosis = None
    for mistake, target in grade.mistakes:
        try:
            if feature(target) == got:
                diagnosis = mistake
                break
        except LearnerFault:
            continue
    raise CheckFailed(explain(got), diagnosis=diagnosis)


# -- the checks -------------------------------------------------------------------------------------
def test_parts(grade):
    """It holds a recurrent layer (nn.RNN, nn.GRU or nn.LSTM)"""
    t = grade.learner
    try:
        handle = t.new("SquareClassifier", **SIZES)
    except LearnerFault as fault:
        raise CheckFailed(f"SquareClassifier(**{SIZES}) raised {fault.report.get('type')}: "
                          f"{fault.report.get('message')}", fault=fault.report) from None
    names = list(handle.parameters)
    grade.require(any(n.endswith("weight_ih_l0") for n in names),
                  f"no recurrent layer among the parameters ({', '.join(names) or 'none'}): build the model around "
                  "nn.RNN, nn.GRU or nn.LSTM (their weights are named weight_ih_l0, weight_hh_l0, ...)")


def test_shape(grade):
    """Returns logits of shape (N, 1) for a padded batch and its lengths"""

    def feature(t):
        handle = model(t)
        return tuple(shape_of(logits(t, handle, *padded(lengths))) for lengths in BATCHES)

    def explain(got):
        lengths = BATCHES[0]
        x, _ = padded(lengths)
        return (f"model(x, lengths) for a batch x of shape {tuple(x.shape)} with lengths {list(lengths)} should "
                f"return logits of shape ({len(lengths)}, 1), one per sequence; got {got[0]}")

    expect(grade, feature, explain)


def _close(a, b):
    return bool(torch.isfinite(a).all() and torch.isfinite(b).all() and
                ((a - b).abs() <= 1e-6 * (1 + b.abs())).all())


@pytest.mark.needs("shape")
def test_alone(grade):
    """Each sequence gets the logit it gets alone: padding and the rest of the batch change nothing"""

    def feature(t):
        handle = model(t, torch.float64)
        pattern = []
        for lengths in BATCHES:
            solo = []
            for i, n in enumerate(lengths):
                x, _ = padded(lengths, dtype=torch.float64)
                out = logits(t, handle, x[i:i + 1, :n], torch.tensor([n]))
                solo.append(out.values.reshape(-1) if isinstance(out, TensorData) and out.values is not None else None)
            for extra in (0, 2):
                out = logits(t, handle, *padded(lengths, extra, dtype=torch.float64))
                if not isinstance(out, TensorData) or out.values is None or out.shape != (len(lengths), 1):
                    pattern.append(None)
                    continue
                pattern.append(tuple(s is not None and _close(out.values[i], s) for i, s in enumerate(solo)))
        return tuple(pattern)

    def explain(got):
        for k, pattern in enumerate(got):
            lengths, extra = BATCHES[k // 2], 2 * (k % 2)
            if pattern is None:
                return f"model(x, lengths) gave no (N, 1) logits for lengths {list(lengths)}"
            wrong = [i for i, ok in enumerate(pattern) if not ok]
            if wrong:
                width = max(lengths) + extra
                which = ", ".join(f"{i} (length {lengths[i]})" for i in wrong)
                return (f"in a batch with lengths {list(lengths)} zero-padded to {width} steps, the logits of "
                        f"sequences {which} differ from what each gets when run alone, unpadded (float64, eval "
                        f"mode, the same weights): a sequence's logit may depend on its own real steps only, never "
                        f"on the padding after them or on the other sequences of the batch")
        return "model(x, lengths) depends on the padding or on the other sequences of the batch"

    expect(grade, feature, explain)


@pytest.mark.needs("shape")
def test_logits(grade):
    """Returns logits (any real number), not probabilities"""

    def feature(t):
        handle = model(t)
        state = t.state(handle)
        params = state.get("parameters", {}) if isinstance(state, dict) else {}
        # Weights ten times larger spread logits far beyond [0, 1]; probabilities stay inside.
        scaled = {name: 10 * p.values for name, p in params.items()
                  if isinstance(p, TensorData) and p.values is not None and p.values.is_floating_point()}
        t.load_state(handle, scaled, strict=False)
        out = logits(t, handle, *make_batch(64, torch.Generator().manual_seed(3))["eval_args"])
        if not isinstance(out, TensorData) or out.values is None or not out.values.is_floating_point():
            return "no floating output"
        if not bool(torch.isfinite(out.values).all()):
            return "not finite"
        return "logits" if bool(((out.values < 0) | (out.values > 1)).any()) else "within [0, 1]"

    def explain(got):
        if got == "within [0, 1]":
            return ("with its weights scaled up tenfold, every output still lies between 0 and 1: the model returns "
                    "probabilities (a sigmoid at the end?). The grader trains with BCEWithLogitsLoss, which applies "
                    "the sigmoid itself: return the raw scores of the last linear layer")
        return f"model(x, lengths) with its weights scaled up tenfold gave {got}"

    expect(grade, feature, explain)


def probe_device(t, c):
    t.seed(INIT_SEED)
    handle = t.new("SquareClassifier", **SIZES)
    t.to(handle, c.device, c.dtype)
    t.train(handle, False)
    x, lengths = padded(c.lengths, seed=c.seed, dtype=c.dtype)
    return t.forward(handle, x.to(c.device), lengths.to(c.device))


def test_device(grade):
    """Works wherever its inputs live"""
    grid = [dict(lengths=BATCHES[0])]
    # The model is the learner's own design, so its GPU answers are compared with its CPU answers,
    # never with the reference's (portable's CUDA branch compares with the reference as well).
    devices = grade.devices
    grade.devices = tuple(d for d in devices if d != "cuda")
    try:
        grade.portable(probe_device, grid, what="model(x, lengths)")
    finally:
        grade.devices = devices
    if "cuda" in devices:
        case = grade.cases(grid, ("float32",), ("cpu",))[0]
        on_cpu, _ = grade.run(grade.learner, probe_device, case)
        on_gpu, fault = grade.run(grade.learner, probe_device, case.__class__(case.params, case.dtype, "cuda",
                                                                              case.seed))
        if fault:
            raise CheckFailed(f"model(x, lengths) fails on the GPU: {fault.get('type')}: {fault.get('message')}",
                              fault=fault)
        a, b = on_cpu["output"], on_gpu["output"]
        if not (isinstance(a, TensorData) and isinstance(b, TensorData) and a.values is not None and
                b.values is not None and a.shape == b.shape and
                bool(((a.values - b.values).abs() <= 1e-4 * (1 + a.values.abs())).all())):
            raise CheckFailed(f"model(x, lengths) gives different answers on the CPU ({a!r}) and the GPU ({b!r})")


# Training is deterministic: the learner's model is built after torch.manual_seed(TRAIN_SEED) and
# sees the batches of TRAIN_SEED (lengths 2 to 4, noise 0.2). The reference (an LSTM, hidden 8,
# packed) reaches an accuracy of 1.000 on 512 fresh walks in 150 steps (loss about 0.02; 0.1 after
# 100 steps); a GRU, a plain RNN and a stacked bidirectional GRU read at lengths - 1 reach 1.000
# too; guessing, or probabilities in place of logits, scores about 0.5. 150 steps of 32 take about
# 2 s on two cores. The budget is in steps, never seconds; the exercise's time limit is the only clock.
ACCURACY, STEPS, BATCH, LR, TRAIN_SEED, EVAL = 0.9, 150, 32, 0.01, 4, 512


@pytest.mark.needs("shape")
def test_learns(grade):
    """Trained by the grader, it tells the direction of fresh square walks"""
    grade.learns(lambda t: t.new("SquareClassifier", **SIZES), "square_sequences:make_batch", threshold=ACCURACY,
                 steps=STEPS, batch=BATCH, lr=LR, seed=TRAIN_SEED, eval_size=EVAL, loss="bce_logits",
                 what="SquareClassifier", examples="square walks")
