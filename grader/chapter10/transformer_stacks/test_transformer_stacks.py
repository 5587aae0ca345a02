"""Hidden suite: transformer_stacks (EncoderTransf and DecoderTransf: n independent copies of a
layer, positional encoding once on the inputs, a final LayerNorm). The judges of values and
gradients are PyTorch's own nn.TransformerEncoder / nn.TransformerDecoder with
norm=nn.LayerNorm(d_model), after the same positional encoding (see `TorchEncoderTransf`,
`TorchDecoderTransf`); solutions/ holds a hand-written twin.

The layers stacked are the provided ones (stack_layers.py: PyTorch's norm-first layers with this
course's signatures and masks), built in each target's own process, so their parameter names
(layers.0.self_attn.in_proj_weight, ...) are those of PyTorch's stacks too. Every layer of a
stack gets its own random weights, so a stack that runs one layer n times shows.
"""

import pytest
import torch
from torch import nn

from _shared.transformer import padding_mask
from dl_course.grading.targets import LocalTarget
from positional_encoding import PositionalEncoding
from stack_layers import DecoderLayer, EncoderLayer, pytorch_mask
from transformer_stacks import DecoderTransf as ReferenceDecoder
from transformer_stacks import EncoderTransf as ReferenceEncoder

ENC = "EncoderTransf(layer, n_layers, max_len)(x, source_mask)"
DEC = "DecoderTransf(layer, n_layers, max_len)(x, states, source_mask, target_mask)"


# -- PyTorch's stacks, after the same positional encoding ----------------------------------------
def _plain(layer, cls):
    """A plain PyTorch layer with the sizes of the provided `layer`."""
    return cls(layer.self_attn.embed_dim, layer.self_attn.num_heads, layer.linear1.out_features, layer.dropout.p,
               batch_first=True, norm_first=True)


class TorchEncoderTransf(nn.TransformerEncoder):
    """nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d)) with a `pe` in front: its
    parameters are named as the exercise's (layers.i..., norm, pe.pe)."""

    def __init__(self, layer, n_layers=1, max_len=100):
        d = layer.self_attn.embed_dim
        super().__init__(_plain(layer, nn.TransformerEncoderLayer), n_layers, norm=nn.LayerNorm(d),
                         enable_nested_tensor=False)
        self.heads = layer.self_attn.num_heads
        self.pe = PositionalEncoding(max_len, d)

    def forward(self, x, source_mask=None):
        n, length = x.shape[0], x.shape[1]
        return super().forward(self.pe(x), mask=pytorch_mask(source_mask, n, length, length, self.heads))


class TorchDecoderTransf(nn.TransformerDecoder):
    """nn.TransformerDecoder(layer, n_layers, norm=nn.LayerNorm(d)) with a `pe` in front."""

    def __init__(self, layer, n_layers=1, max_len=100):
        d = layer.self_attn.embed_dim
        super().__init__(_plain(layer, nn.TransformerDecoderLayer), n_layers, norm=nn.LayerNorm(d))
        self.heads = layer.self_attn.num_heads
        self.pe = PositionalEncoding(max_len, d)

    def forward(self, x, states, source_mask=None, target_mask=None):
        n, lt, ls = x.shape[0], x.shape[1], states.shape[1]
        return super().forward(self.pe(x), states, tgt_mask=pytorch_mask(target_mask, n, lt, lt, self.heads),
                               memory_mask=pytorch_mask(source_mask, n, lt, ls, self.heads))


against = LocalTarget({"EncoderTransf": TorchEncoderTransf, "DecoderTransf": TorchDecoderTransf},
                      "torch.nn.TransformerEncoder / TransformerDecoder(norm=nn.LayerNorm(d_model))")


# -- cases ------------------------------------------------------------------------------------
# One, two and three layers (one layer cannot tell a final norm from a norm after every layer,
# nor positional encoding once from once per layer); L < max_len; masks of both kinds; a batch
# of 1; x away from mean 0 and variance 1.
ENC_GRID = [
    dict(n=1, L=3, d=8, h=2, ff=16, layers=2, max_len=10, mask="none"),
    dict(n=2, L=4, d=12, h=3, ff=20, layers=3, max_len=6, mask="padding", scale=2.0, shift=1.0),
    dict(n=2, L=5, d=8, h=2, ff=8, layers=1, max_len=5, mask="padding"),
]
DEC_GRID = [
    dict(n=1, Lt=3, Ls=4, d=8, h=2, ff=16, layers=2, max_len=10, masks="both"),
    dict(n=2, Lt=4, Ls=3, d=12, h=3, ff=20, layers=3, max_len=6, masks="both", scale=2.0, shift=1.0),
    dict(n=2, Lt=5, Ls=5, d=8, h=1, ff=8, layers=1, max_len=5, masks="target"),
]
CAUSAL_GRID = [dict(n=2, Lt=4, Ls=3, d=8, h=2, ff=8, layers=2, max_len=8, masks="both")]

# (d_model, n_heads, ff_units, n_layers, max_len) for the structure checks.
CONFIGS = [(8, 2, 16, 2, 10), (12, 3, 5, 3, 7), (6, 1, 6, 1, 4)]


def scaled(c, *shape):
    return c.randn(*shape) * c.params.get("scale", 1.0) + c.params.get("shift", 0.0)


def enc_inputs(c):
    return scaled(c, c.n, c.L, c.d), padding_mask(c, c.n, c.L) if c.mask == "padding" else None


def dec_inputs(c):
    x, states = scaled(c, c.n, c.Lt, c.d), c.randn(c.n, c.Ls, c.d)
    source_mask = padding_mask(c, c.n, c.Ls) if c.masks in ("source", "both") else None
    target_mask = None
    if c.masks in ("target", "both"):
        target_mask = torch.ones(1, c.Lt, c.Lt, dtype=torch.bool).tril().to(c.device)
    return x, states, source_mask, target_mask


def _make_encoder(d, h, ff, n_layers, max_len):
    return ReferenceEncoder(EncoderLayer(d, h, ff), n_layers, max_len)


def _make_decoder(d, h, ff, n_layers, max_len):
    return ReferenceDecoder(DecoderLayer(d, h, ff), n_layers, max_len)


def weights(c, make):
    """The stack's state with every parameter moved by its own noise: the copies differ from each
    other, and every norm from the identity. The positional table is left as it is."""
    state = c.state_of(make, c.d, c.h, c.ff, c.layers, c.max_len)
    for key, value in state.items():
        if key == "pe.pe":
            continue
        noise = torch.randn(value.shape, generator=c.generator, dtype=torch.float64).float()
        state[key] = value + (0.5 if "norm" in key else 0.1) * noise
    return state


def build(t, c, kind):
    layer = t.new(f"stack_layers:{kind}Layer", c.d, c.h, c.ff)
    stack = t.new(f"{kind}Transf", layer, c.layers, c.max_len)
    t.load_state(stack, weights(c, _make_encoder if kind == "Encoder" else _make_decoder))
    t.to(stack, c.device, c.dtype)
    return stack


# Masks go in positionally: `forward(self, query, mask=None)` (the book's names) is as right as
# the starter's.
def enc_probe(t, c):
    return t.forward(build(t, c, "Encoder"), *enc_inputs(c))


def enc_probe_grads(t, c):
    return t.forward(build(t, c, "Encoder"), *enc_inputs(c), grads=c.seed, names=("x",))


def dec_probe(t, c):
    return t.forward(build(t, c, "Decoder"), *dec_inputs(c))


def dec_probe_grads(t, c):
    return t.forward(build(t, c, "Decoder"), *dec_inputs(c), grads=c.seed, names=("x", "states"))


def structure(kind):
    def probe(t):
        out = []
        for d, h, ff, n_layers, max_len in CONFIGS:
            stack = t.new(f"{kind}Transf", t.new(f"stack_layers:{kind}Layer", d, h, ff), n_layers, max_len)
            out.append((sorted((name, tuple(p["shape"])) for name, p in stack.parameters.items()),
                        sorted((name, tuple(b["shape"])) for name, b in stack.buffers.items())))
        return out
    return probe


def _parts_message(kind):
    return (f"{kind}Transf(layer, n_layers, max_len) should hold exactly pe = PositionalEncoding(max_len, d_model) "
            f"(its buffer pe.pe), layers = an nn.ModuleList of n_layers independent copies of `layer` (layers.0, "
            f"layers.1, ..., each with its own parameters: copy.deepcopy), and norm = nn.LayerNorm(d_model). "
            f"Checked with (d_model, n_heads, ff_units, n_layers, max_len) = " + ", ".join(map(str, CONFIGS)))


def test_encoder_parts(grade):
    """EncoderTransf holds pe, n independent layer copies and a final norm, nothing else"""
    grade.same(structure("Encoder"), _parts_message("Encoder"))


def test_decoder_parts(grade):
    """DecoderTransf holds pe, n independent layer copies and a final norm, nothing else"""
    grade.same(structure("Decoder"), _parts_message("Decoder"))


@pytest.mark.needs("encoder_parts")
def test_encoder_shape(grade):
    """The encoder returns its states, (N, L, d_model)"""
    grade.compare(enc_probe, ENC_GRID, level="shape", dtypes=("float32",), what=ENC, against=against)


@pytest.mark.needs("decoder_parts")
def test_decoder_shape(grade):
    """The decoder returns one vector per target position, (N, Lt, d_model)"""
    grade.compare(dec_probe, DEC_GRID, level="shape", dtypes=("float32",), what=DEC, against=against)


@pytest.mark.needs("encoder_parts")
def test_encoder_values(grade):
    """The encoder matches nn.TransformerEncoder(norm=nn.LayerNorm) after the positional encoding"""
    grade.compare(enc_probe, ENC_GRID, level="values", what=ENC, against=against,
                  figure=True, figure_title="the encoder's states (batch 0; row: position, column: feature)")


@pytest.mark.needs("decoder_parts")
def test_decoder_values(grade):
    """The decoder matches nn.TransformerDecoder(norm=nn.LayerNorm) after the positional encoding"""
    grade.compare(dec_probe, DEC_GRID, level="values", what=DEC, against=against,
                  figure=True, figure_title="the decoder's output (batch 0; row: target position, column: feature)")


@pytest.mark.needs("decoder_parts")
def test_decoder_causality(grade):
    """With a subsequent target mask, the decoder's output at step t depends on no target step after t"""
    grade.causal(dec_probe_grads, CAUSAL_GRID, length="Lt", input="x", what=DEC)


@pytest.mark.needs("encoder_parts")
def test_encoder_gradients(grade):
    """Gradients w.r.t. x and every parameter of the encoder stack are right"""
    grade.compare(enc_probe_grads, ENC_GRID, grads=True, what=ENC + " then backward", against=against)


@pytest.mark.needs("decoder_parts")
def test_decoder_gradients(grade):
    """Gradients w.r.t. x, the states and every parameter of the decoder stack are right"""
    grade.compare(dec_probe_grads, DEC_GRID, grads=True, what=DEC + " then backward", against=against)


@pytest.mark.needs("encoder_parts", "decoder_parts")
def test_device(grade):
    """Both stacks work on whatever device the inputs live on"""
    grade.portable(enc_probe, ENC_GRID[:1], what=ENC)
    grade.portable(dec_probe, DEC_GRID[:1], what=DEC)
