"""Hidden suite: encoder_decoder (the seq2seq wrapper with teacher forcing).

The encoder and decoder are the provided ones (seq2seq_support.py, beside exercise.toml), built
inside each target with seeded weights and handed to the learner's EncoderDecoder. A coin with
probability p in (0, 1) is not reproducible, so training mode is graded with p = 1 (always the
true point) and p = 0 (always the prediction); evaluation mode with both p (it must ignore p).
"""

import torch
from torch import nn

from dl_course.grading.harness import CheckFailed
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


def test_shape(grade):
    """Returns (N, target_len, F) in training and evaluation mode"""
    grade.compare(probe, ALL, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """The output keeps the input's dtype (float32 and float64)"""
    grade.compare(probe, ALL, level="dtype", what=WHAT)


def test_teacher_forcing(grade):
    """Training with teacher_forcing_prob = 1: every next input is the true target point"""
    grade.compare(probe, FORCED, level="values", what=WHAT + " in training mode, p = 1")


def test_free_running(grade):
    """Training with teacher_forcing_prob = 0: every next input is the decoder's own prediction"""
    grade.compare(probe, FREE, level="values", what=WHAT + " in training mode, p = 0")


def test_evaluation(grade):
    """Evaluation mode feeds back the predictions whatever p is, from the source alone"""
    grade.compare(probe, EVAL, level="values", what=WHAT + " in evaluation mode")


def test_gradients(grade):
    """Gradients w.r.t. X and every parameter of the encoder and decoder are right"""
    grade.compare(probe_grads, GRADS, grads=True, what=WHAT + " then backward")


def test_device(grade):
    """The output is created where the input is (nothing on a fixed device)"""
    # On 'meta' every tensor that follows X stays on 'meta'; one created on the CPU clashes with
    # it, as it would with a GPU input. (Not Grade.portable: a coin drawn on the CPU, as in
    # torch.rand(1).item() < p, is right, and must not be moved elsewhere.)
    try:
        grade.compare(probe, FREE[:2] + EVAL[:1], level="device", dtypes=("float32",),
                      devices=("meta",), what=WHAT)
    except CheckFailed as failed:
        fault = failed.fault or {}
        if "cannot be called on meta tensors" in str(fault.get("message")):
            # The code reads a value (.item(), if on a tensor) from a tensor on X's device: right
            # on a GPU, and nothing to read on 'meta'. Inconclusive here; with a GPU, the values
            # checks have already run there.
            return
        raise CheckFailed("with X on another device than the CPU (this check puts it on PyTorch's 'meta' device, "
                          "standing in for a GPU):\n  " + failed.message + "\n  Create tensors where X is: collect "
                          "the step outputs in a list and torch.cat them, or use X.new_zeros(N, target_len, F); "
                          "never torch.zeros(...) without device=.", failed.case, failed.diagnosis, failed.fault)
