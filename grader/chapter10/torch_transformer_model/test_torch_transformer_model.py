"""Hidden suite: torch_transformer_model (the book's square-sequence model on nn.Transformer).

The nn.Transformer is built in each target's own process with `torch.nn:Transformer`
(batch_first=True, dropout 0) and handed to TransformerModel, so the parameter names are the
documented ones: transf.encoder..., transf.decoder..., proj, pe (buffer pe.pe), norm, linear.
Every case loads the same weights into the learner's model and the reference, each moved by its
own noise (so no LayerNorm is the identity and the two stacks differ).

Checks: the layout, the shapes in both modes, causality of the training path (output t may read
the source and the target points before t only), values and gradients in training mode, the
source padding mask in PyTorch's convention (encoder and the decoder's cross-attention), the
prediction loop in eval mode (two decoder layers in some cases, so the mask matters there too),
and the device.
"""

import pytest
from torch_transformer_model import TransformerModel as Reference

import torch

# (d_model, nhead, encoder layers, decoder layers, dim_feedforward)
NETS = {"a": (8, 2, 1, 1, 16), "b": (6, 2, 1, 2, 12), "c": (8, 2, 2, 2, 8)}

# input_len (Ls), target_len (Lt), n_features (F), batch (n), which transformer, and for eval
# whether X holds the whole sequence (`full`) or the source only.
GRID = [dict(n=1, Ls=2, Lt=2, F=2, net="a"), dict(n=3, Ls=3, Lt=2, F=2, net="b"),
        dict(n=2, Ls=2, Lt=3, F=3, net="c")]
EVAL_GRID = [dict(p, full=False) for p in GRID] + [dict(GRID[1], full=True), dict(GRID[2], full=True)]
# Padded sources: the first sequence whole, the others with padded tails (one real point at least).
PAD_GRID = [dict(n=3, Ls=3, Lt=2, F=2, net="b"), dict(n=4, Ls=4, Lt=3, F=2, net="c")]
CAUSAL_GRID = [dict(n=2, Ls=2, Lt=3, F=2, net="c"), dict(n=2, Ls=3, Lt=2, F=2, net="b")]

WHAT_TRAIN = "model.train(); model(X), X = source and target (N, input_len + target_len, F)"
WHAT_EVAL = "model.eval(); model(X) predicts target_len points"
WHAT_PAD = "model(X, source_mask) with padded sources"


def transformer_args(net):
    d, heads, enc, dec, ff = NETS[net]
    return dict(d_model=d, nhead=heads, num_encoder_layers=enc, num_decoder_layers=dec, dim_feedforward=ff,
                dropout=0.0, batch_first=True)


def _make(net, input_len, target_len, n_features):
    return Reference(torch.nn.Transformer(**transformer_args(net)), input_len, target_len, n_features)


def weights(c):
    state = c.state_of(_make, c.net, c.Ls, c.Lt, c.F)
    for key, value in state.items():
        if key == "pe.pe":
            continue
        noise = torch.randn(value.shape, generator=c.generator, dtype=torch.float64).float()
        state[key] = value + (0.3 if "norm" in key else 0.1) * noise
    return state


def build(t, c, train):
    transformer = t.new("torch.nn:Transformer", **transformer_args(c.net))
    model = t.new("TransformerModel", transformer, c.Ls, c.Lt, c.F)
    t.load_state(model, weights(c))
    t.to(model, c.device, c.dtype)
    t.train(model, train)
    return model


def sequence(c, length):
    return c.randn(c.n, length, c.F)


def padding(c):
    """(N, 1, Ls) bool, True on real data: sequence 0 whole, the others 1..Ls real points."""
    lengths = c.randint(1, c.Ls + 1, c.n)
    lengths[0] = c.Ls
    return (torch.arange(c.Ls, device=lengths.device) < lengths.unsqueeze(-1)).unsqueeze(1)


def probe_train(t, c):
    return t.forward(build(t, c, True), sequence(c, c.Ls + c.Lt), grads=c.seed, names=("X",))


def probe_eval(t, c):
    length = c.Ls + c.Lt if c.full else c.Ls
    return t.forward(build(t, c, False), sequence(c, length))


def probe_padding_train(t, c):
    return t.forward(build(t, c, True), sequence(c, c.Ls + c.Lt), padding(c), grads=c.seed, names=("X",))


def probe_padding_eval(t, c):
    return t.forward(build(t, c, False), sequence(c, c.Ls), padding(c))


def probe_device(t, c):
    X, mask = sequence(c, c.Ls + c.Lt), padding(c)
    return t.forward(build(t, c, True), X, mask)["output"], t.forward(build(t, c, False), X, mask)["output"]


def test_parts(grade):
    """It holds transf (the transformer given), proj, pe, norm and linear, with the sizes given"""

    def layout(t):
        out = []
        for net, Ls, Lt, F in (("a", 2, 2, 2), ("b", 3, 5, 3), ("c", 4, 3, 2)):
            model = t.new("TransformerModel", t.new("torch.nn:Transformer", **transformer_args(net)), Ls, Lt, F)
            # A mask kept as a buffer of its own is no layout error (load_state says so when it is
            # persistent): only the positional table is required among the buffers.
            out.append((sorted((name, tuple(p["shape"])) for name, p in model.parameters.items()),
                        sorted((name, tuple(b["shape"])) for name, b in model.buffers.items() if name == "pe.pe")))
        return out

    grade.same(layout, "the parameters (or the positional table pe.pe) do not match the layout in the starter's "
                       "docstring: transf = the nn.Transformer given, proj = nn.Linear(n_features, d_model), "
                       "pe = PositionalEncoding(max(input_len, target_len), d_model), norm = nn.LayerNorm(d_model), "
                       "linear = nn.Linear(d_model, n_features), nothing else; the grader loads a reference's "
                       "weights by these names")


@pytest.mark.needs("parts")
def test_shape_train(grade):
    """In training mode it returns (N, target_len, n_features)"""
    grade.compare(probe_train, GRID, level="shape", dtypes=("float32",), what=WHAT_TRAIN)


@pytest.mark.needs("parts")
def test_shape_eval(grade):
    """In eval mode it predicts (N, target_len, n_features)"""
    grade.compare(probe_eval, EVAL_GRID, level="shape", dtypes=("float32",), what=WHAT_EVAL)


@pytest.mark.needs("parts")
def test_target_mask(grade):
    """In training, output t reads the source and the target points before t, nothing later"""
    # X holds the source first: output t may read X[:, :input_len + t] (lag = 1 - input_len).
    for params in CAUSAL_GRID:
        grade.causal(probe_train, [params], length="Lt", input="X", lag=1 - params["Ls"],
                     what=WHAT_TRAIN + f" (output t predicts X[:, {params['Ls']} + t])")


@pytest.mark.needs("parts")
def test_values(grade):
    """In training mode, the same outputs as the reference with the same weights"""
    grade.compare(probe_train, GRID, level="values", what=WHAT_TRAIN,
                  figure=True, figure_title="the outputs (sequence 0; row: target step, column: feature)")


@pytest.mark.needs("parts")
def test_gradients(grade):
    """Gradients reach X and every parameter, the transformer's included"""
    grade.compare(probe_train, GRID, grads=True, what=WHAT_TRAIN + " then backward")


@pytest.mark.needs("parts")
def test_predict(grade):
    """In eval mode, the same predictions as the reference, one point at a time"""
    grade.compare(probe_eval, EVAL_GRID, level="values", what=WHAT_EVAL,
                  figure=True, figure_title="the predictions (sequence 0; row: target step, column: feature)")


@pytest.mark.needs("parts")
def test_padding(grade):
    """With a padded source, nothing attends to the padding: not the encoder, not the decoder"""
    grade.compare(probe_padding_train, PAD_GRID, level="values", what=WHAT_PAD + ", training mode")
    grade.compare(probe_padding_train, PAD_GRID, grads=True, what=WHAT_PAD + ", training mode, then backward")
    grade.compare(probe_padding_eval, PAD_GRID, level="values", what=WHAT_PAD + ", eval mode")


@pytest.mark.needs("parts")
def test_device(grade):
    """Works wherever its inputs live, in both modes"""
    grade.portable(probe_device, PAD_GRID[:1], what=WHAT_PAD + " in training and eval mode")
