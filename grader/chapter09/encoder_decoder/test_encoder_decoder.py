"""Hidden suite: encoder_decoder (the seq2seq wrapper with teacher forcing).

The encoder and decoder are the provided ones (seq2seq_support.py, beside exercise.toml), built
inside each target with seeded weights and handed to the learner's EncoderDecoder. Values in
training mode are graded with p = 1 (always the true point) and p = 0 (always the prediction);
evaluation mode with both p (it must ignore p). With p = 0.5 the coin's draws are the learner's
own business (any random-number source, any order, one coin for the batch or one per sequence of
it), so `coin_per_step` does not compare values with the reference: it replays the provided decoder
here, step by step, and reads off from the learner's outputs which input each sequence received at
each step (the true point or its own prediction). A coin tossed at every step mixes the two within
a sequence; a coin tossed once per sequence never does.
"""

import pytest
import torch
from torch import nn

from dl_course.grading.harness import CaseRun, CheckFailed
from seq2seq_support import Decoder, Encoder

WHAT = "EncoderDecoder(encoder, decoder, input_len, target_len, p)(X)"


class _Halves(nn.Module):
    """Only for seeding: one state dict with different weights for the encoder and the decoder."""

    def __init__(self, f, h):
        super().__init__()
        self.encoder = Encoder(f, h)
        self.decoder = Decoder(f, h)


# Sizes: n batch, f features, h hidden, il source length, tl target length (tl = 1 and il = 1 included).
SIZES = [
    dict(n=1, f=2, h=2, il=2, tl=2),
    dict(n=3, f=2, h=4, il=3, tl=3),
    dict(n=2, f=3, h=5, il=1, tl=4),
    dict(n=4, f=1, h=3, il=4, tl=1),
]
FORCED = [dict(s, mode="train", p=1.0) for s in SIZES]
FREE = [dict(s, mode="train", p=0.0) for s in SIZES]
# Evaluation: X is the source only, or the whole sequence (whose target part must be ignored).
EVAL = [dict(s, mode="eval", p=p, x=x) for s in SIZES[:3] for p, x in ((1.0, "source"), (0.0, "source"), (1.0, "full"))]
ALL = FORCED + FREE + EVAL
# p = 0.5 over many steps, float64 on the CPU. With a coin per step, a sequence that is never (or
# always) teacher-forced over 11 decisions has probability 2 / 2**11, and every sequence of every case
# would have to be one; with a coin per sequence, none ever mixes. 16 forward calls, so that even a
# single coin per call, drawn from a generator the grader does not seed (Python's `random`), gives
# both kinds of sequence except with probability 2 / 2**16: then the verdict is the same (fail),
# only worded for code that ignores p.
COIN = [dict(n=(4, 3, 2, 1)[i % 4], f=(2, 1, 3)[i % 3], h=(4, 3, 5)[i % 3], il=(3, 2, 4, 1)[i % 4], tl=12,
             mode="train", p=0.5) for i in range(16)]
# Gradients: fewer cases (the values are settled by then); free running is where detaching shows.
GRADS = FORCED[1:3] + FREE[:3] + [EVAL[1], EVAL[5]]


def build(t, c):
    """The learner's model around a fresh encoder and decoder, with seeded weights, on c's device and dtype.

    The state is loaded through the model (keys encoder.* and decoder.*), which the parameters check
    has made sure of; fewer operations keep the check fast.
    """
    enc = t.new("seq2seq_support:Encoder", c.f, c.h)
    dec = t.new("seq2seq_support:Decoder", c.f, c.h)
    model = t.new("EncoderDecoder", enc, dec, c.il, c.tl, c.p)
    t.load_state(model, c.state_of(_Halves, c.f, c.h))
    if c.device != "cpu" or c.dtype != torch.float32:
        t.to(model, c.device, c.dtype)
    if c.mode != "train":
        t.train(model, False)
    return model


def inputs(c):
    X = c.randn(c.n, c.il + c.tl, c.f)
    if c.mode == "eval" and c.x == "source":
        X = X[:, :c.il].contiguous()
    return X


def probe(t, c):
    model = build(t, c)
    if c.p not in (0.0, 1.0):
        t.seed(c.seed)  # the same draws in every target, so a known mistake can match the learner's code
    return t.forward(model, inputs(c))


def probe_grads(t, c):
    model = build(t, c)
    return t.forward(model, inputs(c), grads=c.seed, names=("X",))


def parameters(t):
    out = []
    for f, h in ((2, 3), (4, 1)):
        enc, dec = t.new("seq2seq_support:Encoder", f, h), t.new("seq2seq_support:Decoder", f, h)
        model = t.new("EncoderDecoder", enc, dec, 2, 2, 0.5)
        out.append(sorted((name, tuple(p["shape"])) for name, p in model.parameters.items()))
    return out


def test_parameters(grade):
    """The encoder and decoder are sub-modules: the model's parameters are theirs"""
    grade.same(parameters, "the model's parameters should be exactly the encoder's and the decoder's, named "
               "encoder.* and decoder.*: keep the two halves as self.encoder and self.decoder (an nn.Module "
               "attribute registers its parameters; a list, a dict or another name does not do the same)")


@pytest.mark.needs("parameters")
def test_shape(grade):
    """Returns (N, target_len, F) in training and evaluation mode"""
    grade.compare(probe, ALL, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """The output keeps the input's dtype (float32 and float64)"""
    grade.compare(probe, ALL, level="dtype", what=WHAT)


@pytest.mark.needs("parameters")
def test_teacher_forcing(grade):
    """Training with teacher_forcing_prob = 1: every next input is the true target point"""
    grade.compare(probe, FORCED, level="values", what=WHAT + " in training mode, p = 1")


@pytest.mark.needs("parameters")
def test_free_running(grade):
    """Training with teacher_forcing_prob = 0: every next input is the decoder's own prediction"""
    grade.compare(probe, FREE, level="values", what=WHAT + " in training mode, p = 0")


def _replay(case, outputs):
    """Which input each sequence got at each step, read off the learner's outputs (N, tl, F).

    Returns (forced, None), with forced an (N, tl - 1) bool tensor (True where the input of step i + 1
    was the true target point i), or (None, step) when the output at `step` is neither what the true
    point nor the fed-back prediction would give.
    """
    c = CaseRun(case)
    X = inputs(c).double()
    halves = _Halves(c.f, c.h).double()
    halves.load_state_dict({k: v.double() for k, v in c.state_of(_Halves, c.f, c.h).items()})
    source, target = X[:, :c.il], X[:, c.il:]
    got = outputs.double()
    forced = torch.zeros(c.n, c.tl - 1, dtype=torch.bool)

    def close(a, b):
        return ((a - b).abs() <= 1e-7 + 1e-6 * b.abs()).flatten(1).all(1)

    with torch.no_grad():
        dec = halves.decoder
        dec.init_hidden(halves.encoder(source))
        out = dec(source[:, -1:])
        if not bool(close(got[:, :1], out).all()):
            return None, 0
        for i in range(1, c.tl):
            hidden = dec.hidden
            by_target = dec(target[:, i - 1:i])
            hidden_target = dec.hidden
            dec.hidden = hidden
            by_feedback = dec(got[:, i - 1:i])
            hidden_feedback = dec.hidden
            is_target, is_feedback = close(got[:, i:i + 1], by_target), close(got[:, i:i + 1], by_feedback)
            if not bool((is_target | is_feedback).all()):
                return None, i
            forced[:, i - 1] = is_target & ~is_feedback
            pick = forced[:, i - 1].view(1, -1, 1)
            dec.hidden = torch.where(pick, hidden_target, hidden_feedback)
    return forced, None


@pytest.mark.needs("parameters")
def test_coin_per_step(grade):
    """With teacher_forcing_prob = 0.5 the coin is tossed at every step: one sequence mixes true points and predictions"""
    cases = grade.cases(COIN, dtypes=("float64",), devices=("cpu",))
    mixed, kinds, seen = 0, set(), []
    for case in cases:
        got, fault = grade.run(grade.learner, probe, case)
        if fault:
            raise CheckFailed(f"{WHAT} in training mode, p = 0.5: {fault.get('type')}: {fault.get('message')}\n"
                              f"  case: {case.label}", case=case.label, fault=fault)
        out = got["output"]
        values = getattr(out, "values", None)
        if values is None or tuple(values.shape) != (case.params["n"], case.params["tl"], case.params["f"]):
            raise CheckFailed(f"{WHAT} in training mode, p = 0.5: expected a tensor of shape "
                              f"({case.params['n']}, {case.params['tl']}, {case.params['f']})\n  case: {case.label}",
                              case=case.label)
        forced, step = _replay(case, values)
        if forced is None:
            raise CheckFailed(
                f"{WHAT} in training mode, p = 0.5: the output at step {step} is neither what the decoder gives "
                f"when fed the true point {step - 1} nor what it gives when fed its own prediction of step "
                f"{step - 1}" + (" (the first step's input is the last source point)" if step == 0 else "") +
                f"\n  case: {case.label}", case=case.label, diagnosis=grade.diagnose(probe, cases))
        seen.append(forced)
        mixed += int((forced.any(1) & ~forced.all(1)).sum())
        kinds |= {bool(x) for x in forced.flatten().tolist()}
    if mixed:
        return
    sequences = sum(f.shape[0] for f in seen)
    steps = seen[0].shape[1] + 1
    if len(kinds) == 1:
        what = "the true point" if kinds == {True} else "its own prediction"
        raise CheckFailed(
            f"{WHAT} in training mode, p = 0.5: in all {sequences} sequences of {steps} steps, every step after "
            f"the first was fed {what}. With probability 0.5 about half the steps should be teacher-forced: "
            "draw a number in [0, 1) at every step and teach when it is below p (torch.rand(1).item() < p).",
            case=cases[0].label, diagnosis=grade.diagnose(probe, cases))
    per_sequence = next((m for m, _ in grade.mistakes if m.id == "tf_per_sequence"), None)
    raise CheckFailed(
        f"{WHAT} in training mode, p = 0.5: in each of {sequences} sequences of {steps} steps, the decoder was "
        "either fed the true point at every step or its own prediction at every step, never a mix: the coin "
        "decides once per sequence. Toss it at every step, inside the loop.",
        case=cases[0].label, diagnosis=grade.diagnose(probe, cases) or per_sequence)


@pytest.mark.needs("parameters")
def test_evaluation(grade):
    """Evaluation mode feeds back the predictions whatever p is, from the source alone"""
    grade.compare(probe, EVAL, level="values", what=WHAT + " in evaluation mode")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. X and every parameter of the encoder and decoder are right"""
    grade.compare(probe_grads, GRADS, grads=True, what=WHAT + " then backward")


@pytest.mark.needs("parameters")
def test_device(grade):
    """The output is created where the input is (nothing on a fixed device)"""
    # On the stand-in GPU, a coin drawn on the CPU and read as a number (torch.rand(1).item() < p)
    # is right, as on a real GPU; a CPU tensor mixed with X's fails, as on a real GPU.
    grade.portable(probe, FREE[:2] + EVAL[:1], what=WHAT)
