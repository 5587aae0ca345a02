"""Hidden suite: cls_token, PatchEmbeddingWithCLS(d_model): (N, P, D) -> (N, 1 + P, D)."""

import pytest
import torch

WHAT = "PatchEmbeddingWithCLS(D)(x) with a random cls_token loaded"

GRID = [dict(n=1, p=1, d=4), dict(n=2, p=9, d=16), dict(n=3, p=4, d=6), dict(n=5, p=16, d=8)]
SMALL = GRID[:3]
SIZES = [4, 1, 16]


def build(t, c):
    module = t.new("PatchEmbeddingWithCLS", c.d)
    token = torch.randn(1, 1, c.d, generator=c.generator, dtype=torch.float64).float()
    t.load_state(module, {"cls_token": token})
    t.to(module, c.device, c.dtype)
    return module


def probe(t, c):
    return t.forward(build(t, c), c.randn(c.n, c.p, c.d))


def probe_grads(t, c):
    return t.forward(build(t, c), c.randn(c.n, c.p, c.d), grads=c.seed, names=("x",))


def fresh_starts_at_zeros(t):
    """For each size, whether a freshly built module puts zeros in front of the (unchanged) patches:
    a random start cannot be compared value for value, so the judge asks the question itself."""
    answers = []
    for d in SIZES:
        module = t.new("PatchEmbeddingWithCLS", d)
        out = t.forward(module, torch.ones(2, 3, d))["output"]
        values = getattr(out, "values", None)
        if values is None or tuple(values.shape) != (2, 4, d):
            answers.append(None)
        else:  # (the front is zeros, the patches follow unchanged)
            answers.append((bool((values[:, 0] == 0).all()), bool((values[:, 1:] == 1).all())))
    return answers


def registered(t):
    """(parameters, buffers) of a fresh module, by name and shape, for each size."""
    out = []
    for d in SIZES:
        module = t.new("PatchEmbeddingWithCLS", d)
        out.append((sorted((name, tuple(p["shape"])) for name, p in module.parameters.items()),
                    sorted(module.buffers)))
    return out


def test_parameters(grade):
    """Has one parameter, cls_token, of shape (1, 1, D), and no buffer"""
    grade.same(registered, "the module should have exactly one parameter, `cls_token`, an nn.Parameter of shape "
               "(1, 1, d_model), and no buffers: a parameter is registered, so the optimizer updates it and .to(device) "
               "moves it. Checked with d_model = " + ", ".join(map(str, SIZES)))


@pytest.mark.needs("parameters")
def test_shape(grade):
    """Returns (N, 1 + P, D)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_initial(grade):
    """A fresh module prepends zeros"""
    grade.same(fresh_starts_at_zeros, "a freshly built PatchEmbeddingWithCLS(d_model) should put zeros in front of "
               "the patches: cls_token starts at torch.zeros(1, 1, d_model). Checked with d_model = " +
               ", ".join(map(str, SIZES)))


@pytest.mark.needs("parameters")
def test_values(grade):
    """The token first, then the patches unchanged; the same token for every image"""
    grade.compare(probe, GRID, level="values", what=WHAT, figure=True,
                  figure_title="sequence 0 (row: position, the token first; column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients reach x and cls_token (summed over the batch)"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward")


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the module and its inputs live on"""
    grade.portable(probe, SMALL, what=WHAT)
