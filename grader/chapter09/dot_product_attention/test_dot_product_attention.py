"""Hidden suite: dot_product_attention (batch-first, bool mask with True = may attend)."""

import torch
import torch.nn.functional as F

from dl_course.grading.harness import CaseRun, CheckFailed
from dl_course.grading.targets import LocalTarget

WHAT = "dot_product_attention(query, key, value, mask)"


def torch_attention(query, key, value, mask=None):
    """Trusted stand-in: PyTorch's own scaled dot-product attention, as (context, weights).

    Its bool attn_mask means what ours means (True = may attend). The weights come from PyTorch
    too: attending over the identity matrix as values returns the attention matrix itself.
    """
    n, lk = key.shape[0], key.shape[-2]
    eye = torch.eye(lk, dtype=value.dtype, device=value.device).expand(n, lk, lk)
    context = F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
    weights = F.scaled_dot_product_attention(query, key, eye, attn_mask=mask)
    return context, weights


def pytorch():
    return LocalTarget({"dot_product_attention": torch_attention},
                       "torch.nn.functional.scaled_dot_product_attention")


# Dk != Dv in most cases (it tells keys from values and the right scale), Lq != Lk, the three kinds
# of mask, self-attention (query = key = value), a batch of 1 and a single key. `big` multiplies the
# queries and keys, so the scores spread to about ±100: past about 88, exp() overflows in float32, and
# a softmax written as exp(s) / exp(s).sum() gives NaN where torch.softmax (which subtracts the row's
# largest score first) does not.
GRID = [
    dict(n=1, lq=1, lk=1, dk=2, dv=3, attn="cross", mask="none"),
    dict(n=1, lq=3, lk=3, dk=4, dv=4, attn="cross", mask="none"),
    dict(n=2, lq=4, lk=6, dk=8, dv=5, attn="cross", mask="padding"),
    dict(n=2, lq=5, lk=5, dk=6, dv=6, attn="self", mask="causal"),
    dict(n=3, lq=2, lk=7, dk=3, dv=9, attn="cross", mask="none"),
    dict(n=2, lq=6, lk=4, dk=16, dv=2, attn="cross", mask="full"),
    dict(n=1, lq=5, lk=8, dk=5, dv=5, attn="cross", mask="padding"),
    dict(n=2, lq=4, lk=6, dk=4, dv=3, attn="cross", mask="padding", big=10),
    dict(n=1, lq=5, lk=5, dk=8, dv=8, attn="self", mask="none", big=10),
]


def inputs(c):
    big = c.params.get("big", 1)
    if c.attn == "self":
        query = key = value = c.randn(c.n, c.lq, c.dk) * big
    else:
        query, key, value = c.randn(c.n, c.lq, c.dk) * big, c.randn(c.n, c.lk, c.dk) * big, c.randn(c.n, c.lk, c.dv)
    if c.mask == "padding":  # (N, 1, Lk): some keys hidden from every query
        mask = c.keep_mask(c.n, 1, c.lk)
    elif c.mask == "causal":  # (1, Lq, Lq): query i sees keys 0..i
        mask = torch.ones(1, c.lq, c.lk, dtype=torch.bool).tril().to(c.device)
    elif c.mask == "full":  # (N, Lq, Lk): an arbitrary pattern for every query
        mask = c.keep_mask(c.n, c.lq, c.lk)
    else:
        mask = None
    return query, key, value, mask


def probe(t, c):
    return t.call("dot_product_attention", *inputs(c))


def probe_grads(t, c):
    return t.call("dot_product_attention", *inputs(c), grads=c.seed, names=("query", "key", "value"))


def test_shapes(grade):
    """Returns context (N, Lq, Dv) and weights (N, Lq, Lk)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """Both outputs keep the input's dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


def test_hidden_keys(grade):
    """Keys the mask hides get exactly zero weight"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)  # already run by `dtype`: reports a crash as usual
    cases = grade.cases(GRID)
    for case in cases:
        if case.params["mask"] == "none":
            continue
        got, _ = grade.run(grade.learner, probe, case)
        weights = got["output"][1].values
        mask = inputs(CaseRun(case))[3].cpu().expand(weights.shape)
        leaked = ~mask & ~(weights == 0)  # NaN counts as a leak too
        if bool(leaked.any()):
            n, q, k = (int(i) for i in leaked.nonzero()[0])
            weight = weights[n, q, k].item()
            why = (" (a NaN comes from a softmax over scores that are all -inf: does it run over the keys, "
                   "dim=-1, and is the mask the right way round?)" if weight != weight else "")
            raise CheckFailed(
                f"{WHAT}: key {k} is hidden from query {q} of batch item {n} (the mask is False there), yet it "
                f"gets weight {weight:.4g}{why}. A hidden key must get exactly 0 weight: "
                f"{int(leaked.sum())} of {int((~mask).sum())} hidden (query, key) pairs got something else.\n"
                f"  smallest failing case: {case.label}",
                case=case.label, diagnosis=grade.diagnose(probe, cases))


def test_values(grade):
    """Context and weights match PyTorch's scaled_dot_product_attention (masks of every kind, Lq != Lk, Dk != Dv)"""
    grade.compare(probe, GRID, level="values", what=WHAT, against=pytorch(),
                  figure=1, figure_title="attention weights (batch 0; row: query, column: key)")


def test_gradients(grade):
    """Gradients w.r.t. query, key and value are right (through both outputs)"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward")


def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, GRID, what=WHAT)
