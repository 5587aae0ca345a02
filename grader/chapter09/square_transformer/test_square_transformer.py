"""Hidden suite: square_transformer (the capstone).

Cheap structural checks first, then causality of the decoder's target mask (through gradients),
values and gradients against the reference with the same weights, and last a training run in the
learner's process, judged here on fresh sequences.
"""

import pytest
from square_transformer import SquareTransformer as Reference

import torch

SIZES = dict(n_features=2, d_model=32, n_heads=4, ff_units=64, max_len=8, target_len=2)
GRID = [dict(n=1, Ls=2, Lt=2), dict(n=4, Ls=2, Lt=2), dict(n=3, Ls=3, Lt=2)]


def build(t, c):
    model = t.new("SquareTransformer", **SIZES)
    t.load_state(model, c.state_of(Reference, **SIZES))
    t.to(model, c.device, c.dtype)
    return model


def train_probe(t, c):
    model = build(t, c)
    t.train(model, True)
    return t.forward(model, c.randn(c.n, c.Ls, 2), c.randn(c.n, c.Lt, 2), grads=c.seed, names=("source", "target"))


def eval_probe(t, c):
    model = build(t, c)
    t.train(model, False)
    return t.forward(model, c.randn(c.n, c.Ls, 2))


def test_parts(grade):
    """It is built from proj_in, pe, encoder, decoder and proj_out"""

    def layout(t):
        model = t.new("SquareTransformer", **SIZES)
        return sorted((name, tuple(p["shape"])) for name, p in model.parameters.items())

    grade.same(layout, "the parameters do not match the layout in the starter's docstring (proj_in, pe, encoder, "
                       "decoder, proj_out with the sizes given); the grader loads a reference's weights by these names")


@pytest.mark.needs("parts")
def test_shape_train(grade):
    """With a target, it returns (N, target_len, 2)"""
    grade.compare(train_probe, GRID, level="shape", dtypes=("float32",), what="model(source, target)")


@pytest.mark.needs("parts")
def test_shape_eval(grade):
    """Without a target (eval mode), it predicts (N, target_len, 2)"""
    grade.compare(eval_probe, GRID, level="shape", dtypes=("float32",), what="model(source)")


@pytest.mark.needs("parts")
def test_target_mask(grade):
    """In training, output t cannot see target t or later"""
    grade.causal(train_probe, GRID[1:], length="Lt", input="target", lag=1, what="model(source, target)")


@pytest.mark.needs("parts")
def test_values(grade):
    """Same outputs as the reference with the same weights, in training and in eval"""
    grade.compare(train_probe, GRID, level="values", what="model(source, target)")
    grade.compare(eval_probe, GRID, level="values", what="model(source)")


@pytest.mark.needs("parts")
def test_gradients(grade):
    """Gradients reach the inputs and every parameter"""
    grade.compare(train_probe, GRID, grads=True, what="model(source, target)")


@pytest.mark.needs("parts")
def test_device(grade):
    """Works wherever its inputs live"""
    grade.portable(train_probe, GRID[:1], what="model(source, target)")
    grade.portable(eval_probe, GRID[:1], what="model(source)")


@pytest.mark.needs("parts", "values")
def test_learns(grade):
    """Trained by the grader, it completes fresh squares"""

    def model(t):
        handle = t.new("SquareTransformer", **SIZES)
        t.load_state(handle, initial_state())
        return handle

    grade.learns(model, "square_data:make_batch", threshold=THRESHOLD, steps=STEPS, batch=BATCH, lr=LR,
                 seed=TRAIN_SEED, what="SquareTransformer")


# Training is deterministic: the model starts from the reference's weights drawn with INIT_SEED and
# sees the batches of TRAIN_SEED, so a model that computes what the reference computes trains as it
# does (the reference reaches about 0.012 in 300 steps, 0.014 already in 100, the noise floor being
# 0.01; a model that ignores its input and predicts the average corner scores about 1.0). A random
# start would make the verdict a lottery: without residual connections this small model sometimes
# stalls near 0.2. The budget is in steps, never seconds, so a slow machine reaches the same
# verdict; the exercise's time limit is the only clock (300 steps take about 3 s on two cores).
THRESHOLD, STEPS, BATCH, LR, INIT_SEED, TRAIN_SEED = 0.05, 300, 64, 2e-3, 4, 4


def initial_state():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        return {k: v.detach().clone() for k, v in Reference(**SIZES).state_dict().items()}
