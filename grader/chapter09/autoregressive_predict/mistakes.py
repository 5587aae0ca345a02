"""Known mistakes for autoregressive_predict. Each function is a whole (wrong) implementation.

Shapes in comments: N batch, F features, t the current input length.
"""

import torch

from dl_course.grading.mistakes import mistake


def _causal(t, device):
    return torch.ones(t, t, dtype=torch.bool, device=device).tril().unsqueeze(0)    # (1, t, t)


# -- wrong shape ----------------------------------------------------------------------------------

@mistake("returns_first_input", "The answer starts with first_input: return only the `steps` predictions, "
         "(N, steps, F): inputs[:, 1:].",
         provides="autoregressive_predict")
def returns_first_input(decoder, states, first_input, steps, source_mask=None):
    inputs = first_input
    for _ in range(steps):
        out = decoder(inputs, states, source_mask, _causal(inputs.shape[1], inputs.device))
        inputs = torch.cat([inputs, out[:, -1:]], dim=1).detach()
    return inputs


@mistake("mask_fixed_size", "The target mask is built once for `steps` positions, but at step k the inputs have k "
         "positions: build it for the current length, inputs.shape[1] (or slice mask[:, :k, :k]).",
         provides="autoregressive_predict")
def mask_fixed_size(decoder, states, first_input, steps, source_mask=None):
    target_mask = _causal(steps, first_input.device)
    inputs, predictions = first_input, []
    for _ in range(steps):
        out = decoder(inputs, states, source_mask, target_mask)
        predictions.append(out[:, -1:])
        inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
    return torch.cat(predictions, dim=1)


# -- wrong values ---------------------------------------------------------------------------------

@mistake("no_target_mask", "The decoder runs without a target mask (target_mask=None): each position then also "
         "sees the positions after it, which it would not at training time, and through the decoder's layers "
         "that changes the last position too. Pass the (1, t, t) lower-triangular mask at every step.",
         provides="autoregressive_predict")
def no_target_mask(decoder, states, first_input, steps, source_mask=None):
    inputs, predictions = first_input, []
    for _ in range(steps):
        out = decoder(inputs, states, source_mask, None)
        predictions.append(out[:, -1:])
        inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
    return torch.cat(predictions, dim=1)


@mistake("mask_upper_triangular", "The target mask is upper-triangular (triu): each position may see itself and "
         "the FUTURE. Position i may attend to j <= i: the lower triangle, tril.", provides="autoregressive_predict")
def mask_upper_triangular(decoder, states, first_input, steps, source_mask=None):
    inputs, predictions = first_input, []
    for _ in range(steps):
        t = inputs.shape[1]
        target_mask = torch.ones(t, t, dtype=torch.bool, device=inputs.device).triu().unsqueeze(0)
        out = decoder(inputs, states, source_mask, target_mask)
        predictions.append(out[:, -1:])
        inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
    return torch.cat(predictions, dim=1)


@mistake("mask_inverted", "The target mask is inverted (True above the diagonal, False on and below it): in this "
         "course True means 'may attend', so the mask is the lower triangle with its diagonal; inverted, the "
         "last position may attend to nothing and its scores are all -inf (NaN).", provides="autoregressive_predict")
def mask_inverted(decoder, states, first_input, steps, source_mask=None):
    inputs, predictions = first_input, []
    for _ in range(steps):
        t = inputs.shape[1]
        target_mask = ~torch.ones(t, t, dtype=torch.bool, device=inputs.device).tril().unsqueeze(0)
        out = decoder(inputs, states, source_mask, target_mask)
        predictions.append(out[:, -1:])
        inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
    return torch.cat(predictions, dim=1)


@mistake("appends_whole_output", "The decoder's whole output is appended to the inputs, not just its last "
         "position: the inputs then double in length and repeat earlier predictions. Append out[:, -1:] only.",
         provides="autoregressive_predict")
def appends_whole_output(decoder, states, first_input, steps, source_mask=None):
    inputs, predictions = first_input, []
    for _ in range(steps):
        out = decoder(inputs, states, source_mask, _causal(inputs.shape[1], inputs.device))
        predictions.append(out[:, -1:])
        inputs = torch.cat([inputs, out.detach()], dim=1)
    return torch.cat(predictions, dim=1)


# -- right values, wrong gradients ----------------------------------------------------------------

@mistake("not_detached", "The predictions are fed back without .detach(): the values are right, but every "
         "prediction then drags the graph of all the decoder calls before it, and a gradient from a later "
         "prediction flows back through the earlier ones. Detach what you append: "
         "inputs = torch.cat([inputs, out[:, -1:]], dim=1).detach().", provides="autoregressive_predict")
def not_detached(decoder, states, first_input, steps, source_mask=None):
    inputs = first_input
    for _ in range(steps):
        out = decoder(inputs, states, source_mask, _causal(inputs.shape[1], inputs.device))
        inputs = torch.cat([inputs, out[:, -1:]], dim=1)
    return inputs[:, 1:]


# -- wrong device ---------------------------------------------------------------------------------

@mistake("mask_on_cpu", "The target mask is created without device= (torch.ones(t, t, dtype=torch.bool).tril()), "
         "so it lands on the CPU while the inputs may be on a GPU: pass device=inputs.device.",
         provides="autoregressive_predict")
def mask_on_cpu(decoder, states, first_input, steps, source_mask=None):
    inputs, predictions = first_input, []
    for _ in range(steps):
        t = inputs.shape[1]
        target_mask = torch.ones(t, t, dtype=torch.bool).tril().unsqueeze(0)
        out = decoder(inputs, states, source_mask, target_mask)
        predictions.append(out[:, -1:])
        inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
    return torch.cat(predictions, dim=1)
