"""Hidden suite: additive_attention (Bahdanau-style attention, batch-first, bool mask True = may attend).

Values and gradients are judged against `BookAttention` below, a deliberately plain version that
scores one (query, key) pair at a time, so the vectorised reference in solutions/ is checked too.
"""

import pytest
import torch
from torch import nn

from dl_course.grading.targets import LocalTarget

WHAT = "AdditiveAttention(query_size, key_size, hidden_size)(query, key, value, mask)"


class BookAttention(nn.Module):
    """Trusted stand-in: the formula applied pair by pair, with the exercise's sub-modules."""

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.w_query = nn.Linear(query_size, hidden_size, bias=False)
        self.w_key = nn.Linear(key_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, key, value, mask=None):
        n, lq, lk = query.shape[0], query.shape[1], key.shape[1]
        rows = []
        for i in range(lq):
            row = []
            for j in range(lk):
                # score(q_i, k_j) = v · tanh(W_q q_i + W_k k_j), for every batch element: (N,)
                pair = torch.tanh(self.w_query(query[:, i]) + self.w_key(key[:, j]))
                row.append(self.v(pair)[:, 0])
            rows.append(torch.stack(row, dim=-1))
        scores = torch.stack(rows, dim=1)  # (N, Lq, Lk)
        if mask is not None:
            scores = torch.where(mask.expand(n, lq, lk), scores, torch.full_like(scores, float("-inf")))
        alphas = torch.softmax(scores, dim=-1)
        return torch.einsum("nqk,nkd->nqd", alphas, value), alphas


def book():
    return LocalTarget({"AdditiveAttention": BookAttention}, "additive attention, pair by pair")


# Queries and keys of different sizes (except one case), Lq != Lk (except one case), Dv unlike
# both, masks of both kinds, hidden sizes > 1, a batch of 1 and single-query (decoder step) cases.
GRID = [
    dict(n=1, lq=1, lk=4, dq=3, dk=5, h=6, dv=2, mask="none"),
    dict(n=2, lq=3, lk=5, dq=4, dk=6, h=7, dv=3, mask="padding"),
    dict(n=3, lq=4, lk=4, dq=5, dk=5, h=8, dv=5, mask="none"),
    dict(n=2, lq=5, lk=3, dq=6, dk=4, h=8, dv=7, mask="full"),
    dict(n=1, lq=4, lk=6, dq=8, dk=3, h=5, dv=4, mask="full"),
    dict(n=4, lq=1, lk=7, dq=2, dk=9, h=3, dv=6, mask="padding"),
    # v's weight multiplied by `big`: scores of about ±100, where exp() overflows in float32 and a
    # softmax written as exp(s) / exp(s).sum() gives NaN (torch.softmax does not).
    dict(n=2, lq=4, lk=6, dq=4, dk=6, h=8, dv=3, mask="padding", big=250),
]

# For the shapes: every case has Lq != Lk (both > 1) and Dv unlike Dk, so a mix-up of the two
# lengths, or of keys and values, always shows.
SHAPE_GRID = [g for g in GRID if 1 < g["lq"] != g["lk"] > 1 and g["dv"] != g["dk"]]


def inputs(c):
    query = c.randn(c.n, c.lq, c.dq)
    key = c.randn(c.n, c.lk, c.dk)
    value = c.randn(c.n, c.lk, c.dv)
    # Every mask below keeps the first key and hides at least one other in every row, so that a
    # mask used the wrong way round never hides a whole row: the answer is then the same whether
    # the hidden scores are -inf or a large negative number, and the mistake is named either way.
    if c.mask == "padding":  # (N, 1, Lk): each sequence is padded at the end, keys 0..length-1 are real
        lengths = c.randint(1, c.lk, c.n)
        mask = (torch.arange(c.lk, device=c.device) < lengths[:, None])[:, None, :]
    elif c.mask == "full":  # (N, Lq, Lk): a pattern of its own for every query
        mask = c.keep_mask(c.n, c.lq, c.lk, p=0.6)
        mask[..., -1] = False
    else:
        mask = None
    return query, key, value, mask


def build(t, c):
    module = t.new("AdditiveAttention", c.dq, c.dk, c.h)
    state = c.state_of(BookAttention, c.dq, c.dk, c.h)
    state["v.weight"] = state["v.weight"] * c.params.get("big", 1)
    t.load_state(module, state)
    t.to(module, c.device, c.dtype)
    return module


def probe(t, c):
    return t.forward(build(t, c), *inputs(c))


def probe_grads(t, c):
    return t.forward(build(t, c), *inputs(c), grads=c.seed, names=("query", "key", "value"))


CONFIGS = [(3, 5, 4), (6, 2, 8), (4, 4, 1)]


def submodules(t):
    return [sorted((name, tuple(p["shape"])) for name, p in t.new("AdditiveAttention", dq, dk, h).parameters.items())
            for dq, dk, h in CONFIGS]


def test_parameters(grade):
    """Has w_query, w_key and v, three bias-free Linear layers of the right sizes"""
    grade.same(submodules, "the parameters should be exactly w_query.weight (H, Dq), w_key.weight (H, Dk) and "
               "v.weight (1, H): w_query = nn.Linear(query_size, hidden_size, bias=False), w_key = "
               "nn.Linear(key_size, hidden_size, bias=False), v = nn.Linear(hidden_size, 1, bias=False). "
               "Checked with (query_size, key_size, hidden_size) = " + ", ".join(map(str, CONFIGS)))


@pytest.mark.needs("parameters")
def test_shapes(grade):
    """Returns context (N, Lq, Dv) and alphas (N, Lq, Lk)"""
    grade.compare(probe, SHAPE_GRID, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Both outputs keep the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Context and alphas have the right values (sizes unlike, masks of both kinds, float32 and float64)"""
    grade.compare(probe, GRID, level="values", what=WHAT, against=book(),
                  figure=1, figure_title="attention weights (batch 0; row: query, column: key)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. query, key, value and every parameter are right"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward", against=book())


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, GRID, what=WHAT)
