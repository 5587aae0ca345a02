"""Hidden suite: torch_transformer_masks.

Our masks are bool with True = may attend: padding (N, 1, L), attention (1, Lq, Lk).
nn.Transformer wants src_key_padding_mask (N, L) with True = ignore, and an (Lq, Lk) attn mask,
bool (True = ignore) or float (0.0 / -inf, as generate_square_subsequent_mask gives).

Each function's values are compared with the reference (and the float mask with PyTorch's own
generate_square_subsequent_mask); then the learner's masks are fed, here in the judge, to a real
nn.MultiheadAttention, whose outputs and input gradients must be what the reference's masks give.
Masks carry no gradient themselves, so that is where gradients are compared.
"""

import torch

from dl_course.grading.targets import LocalTarget
from dl_course.grading.wire import TensorData, decode, encode

# Padding masks (N, 1, L): a batch of one, sequences of length one, padded tails.
PAD_GRID = [dict(n=1, L=1), dict(n=2, L=1), dict(n=1, L=4), dict(n=3, L=5), dict(n=4, L=7)]
# Attention masks (1, Lq, Lk): causal (as subsequent_mask gives) or random (at least one True a row),
# one query only (the first step of a prediction), rectangular.
ATTN_GRID = [dict(lq=1, lk=1, kind="causal"), dict(lq=1, lk=4, kind="random"), dict(lq=3, lk=3, kind="causal"),
             dict(lq=5, lk=5, kind="random"), dict(lq=4, lk=6, kind="random"), dict(lq=8, lk=8, kind="causal")]
CAUSAL = [c for c in ATTN_GRID if c["kind"] == "causal"]
# to_float_attn_mask with the default dtype (float32) and with dtype= given (float32, float64).
FLOAT_GRID = [dict(p, default=True) for p in ATTN_GRID[:3]] + [dict(p, default=False) for p in ATTN_GRID]
FROM_GRID = [dict(p, form=form) for p in ATTN_GRID for form in ("bool", "float")]


def padding(c):
    """(N, 1, L) bool: sequence 0 full length, the others with padded tails (one real point at least)."""
    lengths = c.randint(1, c.L + 1, c.n)
    lengths[0] = c.L
    positions = torch.arange(c.L, device=lengths.device)
    return (positions.view(1, c.L) < lengths.view(c.n, 1)).unsqueeze(1)


def attention(c):
    """(1, Lq, Lk) bool, True = may attend."""
    if c.kind == "causal":
        return torch.ones(c.lq, c.lk, dtype=torch.bool, device=c.device).tril().unsqueeze(0)
    return c.keep_mask(1, c.lq, c.lk, p=0.6)


def probe_key_padding(t, c):
    return t.call("to_key_padding_mask", padding(c))


def probe_bool_attn(t, c):
    return t.call("to_bool_attn_mask", attention(c))


def probe_float_attn(t, c):
    if c.default:
        return t.call("to_float_attn_mask", attention(c))
    return t.call("to_float_attn_mask", attention(c), dtype=c.dtype)


def probe_from_padding(t, c):
    return t.call("from_key_padding_mask", ~padding(c)[:, 0])


def probe_from_attn(t, c):
    blocked = ~attention(c)[0]
    if c.form == "bool":
        return t.call("from_attn_mask", blocked)
    zeros = torch.zeros(blocked.shape, dtype=c.dtype, device=blocked.device)
    return t.call("from_attn_mask", zeros.masked_fill(blocked, float("-inf")))


def probe_torch_subsequent(t, c):
    """PyTorch's own causal mask, read back into our convention."""
    return t.call("from_attn_mask", torch.nn.Transformer.generate_square_subsequent_mask(c.lq, dtype=c.dtype))


def probe_all(t, c):
    mask = attention(c)
    return (t.call("to_key_padding_mask", padding(c))["output"], t.call("to_bool_attn_mask", mask)["output"],
            t.call("to_float_attn_mask", mask, dtype=c.dtype)["output"],
            t.call("from_key_padding_mask", ~padding(c)[:, 0])["output"],
            t.call("from_attn_mask", ~mask[0])["output"])


# PyTorch's own causal mask stands in for to_float_attn_mask on causal masks.
pytorch_causal = LocalTarget(
    {"to_float_attn_mask": lambda mask, dtype=torch.float32:
        torch.nn.Transformer.generate_square_subsequent_mask(mask.shape[-1], dtype=dtype, device=mask.device)},
    "nn.Transformer.generate_square_subsequent_mask")


# -- fed to a real nn.MultiheadAttention, in the judge ----------------------------------------------

HEADS, D = 2, 8
MHA_GRID = [dict(n=1, L=1, lq=1, lk=1, kind="causal"), dict(n=2, L=4, lq=4, lk=4, kind="causal"),
            dict(n=3, L=5, lq=5, lk=5, kind="random"), dict(n=2, L=7, lq=7, lk=7, kind="random")]
# For the device check: a padding mask (n, L) and an attention mask (lq, lk) in each case.
DEVICE_GRID = [dict(n=2, L=4, lq=3, lk=3, kind="causal"), dict(n=1, L=3, lq=2, lk=5, kind="random")]


def _plain(data):
    """A mask that came back from a target, as a tensor; or why it cannot be used."""
    if not isinstance(data, TensorData):
        return f"your function returned {type(data).__name__}, not a tensor"
    if data.values is None:
        return "your function's tensor came without values"
    return data.values


def _attend(c, key_padding_mask=None, attn_mask=None):
    """nn.MultiheadAttention (fixed weights, batch-first) on fixed q, k, v: the output and the
    gradients of q, k and v under a fixed upstream gradient; a sentence when PyTorch refuses."""
    gen = torch.Generator().manual_seed(c.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(c.seed)
        mha = torch.nn.MultiheadAttention(D, HEADS, batch_first=True).to(c.dtype)
    q, k, v = (torch.randn(c.n, c.L, D, generator=gen, dtype=torch.float64).to(c.dtype).requires_grad_()
               for _ in range(3))
    upstream = torch.randn(c.n, c.L, D, generator=gen, dtype=torch.float64).to(c.dtype)
    try:
        out, _ = mha(q, k, v, key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=False)
    except Exception as e:  # noqa: BLE001 - PyTorch refusing the mask is the learner's failed check
        return f"nn.MultiheadAttention refused it: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    out.backward(upstream)
    return decode(encode((out.detach(), q.grad, k.grad, v.grad)))


def probe_mha(t, c):
    mask = attention(c)
    kpm = _plain(t.call("to_key_padding_mask", padding(c))["output"])
    bool_mask = _plain(t.call("to_bool_attn_mask", mask)["output"])
    float_mask = _plain(t.call("to_float_attn_mask", mask, dtype=c.dtype)["output"])
    return tuple(m if isinstance(m, str) else _attend(c, **{kw: m})
                 for kw, m in (("key_padding_mask", kpm), ("attn_mask", bool_mask), ("attn_mask", float_mask)))



# -- checks ------------------------------------------------------------------------------------------

def test_key_padding_mask(grade):
    """to_key_padding_mask: (N, 1, L) → (N, L) bool, True on padding"""
    grade.compare(probe_key_padding, PAD_GRID, level="values", dtypes=None, what="to_key_padding_mask(mask)",
                  figure=True, figure_title="src_key_padding_mask (row: sequence, column: key; True = ignore)")


def test_bool_attn_mask(grade):
    """to_bool_attn_mask: (1, Lq, Lk) → (Lq, Lk) bool, True where attending is forbidden"""
    grade.compare(probe_bool_attn, ATTN_GRID, level="values", dtypes=None, what="to_bool_attn_mask(mask)",
                  figure=True, figure_title="the bool attn_mask (row: query, column: key; True = ignore)")


def test_float_attn_mask(grade):
    """to_float_attn_mask: (1, Lq, Lk) → (Lq, Lk) of 0.0 and -inf, in the dtype asked for"""
    grade.compare(probe_float_attn, FLOAT_GRID, level="values", what="to_float_attn_mask(mask, dtype)",
                  figure=True, figure_title="the float attn_mask (row: query, column: key; blank = -inf)")


def test_float_is_pytorchs(grade):
    """On a causal mask, to_float_attn_mask gives nn.Transformer.generate_square_subsequent_mask"""
    grade.compare(probe_float_attn, [dict(p, default=False) for p in CAUSAL], level="values",
                  what="to_float_attn_mask(subsequent_mask(L), dtype)", against=pytorch_causal)


def test_from_key_padding_mask(grade):
    """from_key_padding_mask: (N, L) True = ignore → our (N, 1, L), True = may attend"""
    grade.compare(probe_from_padding, PAD_GRID, level="values", dtypes=None, what="from_key_padding_mask(kpm)")


def test_from_attn_mask(grade):
    """from_attn_mask: a bool (True = ignore) or float (0 / -inf) (Lq, Lk) mask → our (1, Lq, Lk)"""
    grade.compare(probe_from_attn, FROM_GRID, level="values", what="from_attn_mask(attn_mask)",
                  figure=True, figure_title="our mask (row: query, column: key; True = may attend)")
    grade.compare(probe_torch_subsequent, CAUSAL, level="values",
                  what="from_attn_mask(nn.Transformer.generate_square_subsequent_mask(L))")


def test_multihead_attention(grade):
    """Fed to a real nn.MultiheadAttention, your masks give the reference's outputs and gradients"""
    grade.compare(probe_mha, MHA_GRID, level="values",
                  what="nn.MultiheadAttention(q, k, v, key_padding_mask=..., attn_mask=...) with your masks "
                       "(outputs, then the gradients of q, k and v), in this order: your key padding mask, "
                       "your bool mask, your float mask")


def test_device(grade):
    """The masks stay on the device of the mask they were made from"""
    grade.portable(probe_all, DEVICE_GRID, what="the five functions")
