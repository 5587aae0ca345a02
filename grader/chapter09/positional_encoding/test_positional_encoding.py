"""Hidden suite: PositionalEncoding."""

import pytest
import math

import torch

from dl_course.grading.harness import CheckFailed
from dl_course.grading.ops import LearnerFault

# (max_len, d_model) for the structural checks and the table's values.
TABLES = [dict(max_len=1, d_model=2), dict(max_len=6, d_model=4), dict(max_len=12, d_model=10),
          dict(max_len=50, d_model=16)]
LAYOUTS = [(7, 6), (1, 2), (12, 8)]
# Forward passes: L <= max_len, batches of 1 and more, one case with L == max_len, one with L == 1.
FORWARD = [dict(n=1, length=1, max_len=4, d_model=4), dict(n=1, length=3, max_len=5, d_model=4),
           dict(n=2, length=5, max_len=5, d_model=6), dict(n=3, length=7, max_len=12, d_model=8),
           dict(n=1, length=20, max_len=32, d_model=16)]
SMALL = FORWARD[:3]

BUILD = "PositionalEncoding(max_len, d_model)"
CALL = "PositionalEncoding(max_len, d_model)(x), with a test table loaded into pe"


def table(max_len, d_model):
    """The exact table, computed in float64 and rounded once to float32, shape (1, max_len, d_model)."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
    out = torch.empty(max_len, d_model, dtype=torch.float64)
    out[:, 0::2] = torch.sin(pos * speeds)
    out[:, 1::2] = torch.cos(pos * speeds)
    return out.float().unsqueeze(0)


# -- probes ---------------------------------------------------------------------------------
def layout(t):
    """Names of parameters and buffers (with shapes) for a few sizes."""
    out = []
    for max_len, d_model in LAYOUTS:
        h = t.new("PositionalEncoding", max_len, d_model)
        out.append({"parameters": sorted(h.parameters),
                    "buffers": {name: list(info["shape"]) for name, info in h.buffers.items()}})
    return out


def buffer_values(t, c):
    h = t.new("PositionalEncoding", c.max_len, c.d_model)
    t.to(h, c.device)
    return {"pe": t.state(h)["buffers"].get("pe")}


def _built(t, c):
    """A module holding a random table, loaded through load_state_dict: forward must add the buffer it holds.

    So the forward checks grade the forward pass alone (the table itself is graded by test_table), code that
    ignores self.pe fails plainly, and float64 results do not depend on how a float32 table was rounded.
    """
    h = t.new("PositionalEncoding", c.max_len, c.d_model)
    test_table = torch.randn((1, c.max_len, c.d_model), generator=c.generator, dtype=torch.float64).float()
    t.load_state(h, {"pe": test_table}, all_buffers=True)  # persistence is test_state_dict's business
    t.to(h, c.device, c.dtype)
    return h


def forward(t, c):
    h = _built(t, c)
    return t.forward(h, c.randn(c.n, c.length, c.d_model))


def forward_grads(t, c):
    h = _built(t, c)
    return t.forward(h, c.randn(c.n, c.length, c.d_model), grads=c.seed, names=("x",))


def saved(t):
    """Buffer shapes and whether a state dict holding exactly `pe` loads strictly, for a few sizes."""
    out = []
    for max_len, d_model in LAYOUTS:
        h = t.new("PositionalEncoding", max_len, d_model)
        try:
            t.load_state(h, {"pe": table(max_len, d_model)}, strict=True)
            loaded = True
        except LearnerFault:
            loaded = False
        out.append(({name: list(info["shape"]) for name, info in h.buffers.items()}, loaded))
    return out


def _layout_message(grade):
    """What is wrong with the learner's parameters and buffers, in words (the learner's code is run here)."""
    try:
        got = layout(grade.learner)
    except LearnerFault as fault:
        # Reported here rather than by grade.same, so the learner sees the exception and its line.
        report = fault.report
        text = f"building {BUILD} raised {report.get('type')}: {report.get('message')}".rstrip(": ")
        if report.get("traceback"):
            text += "\n" + str(report["traceback"]).rstrip()
        raise CheckFailed(text, fault=report) from None
    for (max_len, d_model), found in zip(LAYOUTS, got):
        params, buffers = found["parameters"], found["buffers"]
        if "pe" in params:
            return ("`pe` is an nn.Parameter: it appears in parameters(), so an optimizer would train it. The table "
                    "is fixed: register it with self.register_buffer('pe', table) instead")
        if params:
            return (f"PositionalEncoding({max_len}, {d_model}) has parameters ({', '.join(params)}); it should have "
                    "none: the encoding is a fixed table, not something learned")
        if "pe" not in buffers:
            return ("there is no buffer called `pe`: a tensor stored as a plain attribute (self.pe = table) is not "
                    "moved by .to(device) and is not saved by state_dict(). Use self.register_buffer('pe', table)")
        if buffers["pe"] != [1, max_len, d_model]:
            shape = "(" + ", ".join(map(str, buffers["pe"])) + ")"
            return (f"for PositionalEncoding({max_len}, {d_model}) the buffer `pe` has shape {shape}; expected "
                    f"(1, {max_len}, {d_model}): a leading dimension of 1 lets it broadcast over the batch")
        extra = sorted(set(buffers) - {"pe"})
        if extra:
            return f"the module has buffers besides `pe` ({', '.join(extra)}); it needs only `pe`"
    return (f"{BUILD} must register `pe` as a buffer (self.register_buffer('pe', table)), not as a parameter, "
            "with shape (1, max_len, d_model)")


# -- checks ---------------------------------------------------------------------------------
def test_buffer(grade):
    """`pe` is a buffer, not a parameter, of shape (1, max_len, d_model)"""
    grade.same(layout, _layout_message(grade))


@pytest.mark.needs("buffer")
def test_table(grade):
    """The buffer holds sines in even columns and cosines in odd columns"""
    grade.compare(buffer_values, TABLES, level="values", dtypes=("float32",), what=f"the buffer pe of {BUILD}",
                  figure="pe", figure_title="the table pe (row: position, column: feature)")


def test_state_dict(grade):
    """The table is saved in state_dict() (a persistent buffer)"""
    grade.same(saved, "`pe` is not in state_dict(): it was registered with persistent=False, so a saved model "
                      "would lose it and loading a checkpoint that has it fails. Register it with "
                      "self.register_buffer('pe', table) (persistent is True by default)")


@pytest.mark.needs("buffer")
def test_shape(grade):
    """forward(x) returns a tensor shaped like x, (N, L, d_model)"""
    grade.compare(forward, FORWARD, level="shape", what=CALL)


@pytest.mark.needs("buffer")
def test_dtype(grade):
    """The output has the input's dtype (float64 when the module is moved to float64)"""
    grade.compare(forward, FORWARD, level="dtype", what=CALL)


@pytest.mark.needs("buffer")
def test_values(grade):
    """forward(x) = x·√d_model + self.pe[:, :L]"""
    grade.compare(forward, FORWARD, level="values", what=CALL)


@pytest.mark.needs("buffer")
def test_gradient(grade):
    """The gradient with respect to x is right under a random upstream gradient"""
    grade.compare(forward_grads, FORWARD, grads=True, what=CALL)


@pytest.mark.needs("buffer")
def test_device(grade):
    """The table moves with the module: .to(device) then forward works on that device"""
    grade.portable(forward, SMALL, what=f"{CALL} after .to(device)")
