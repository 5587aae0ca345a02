"""Reference: greedy autoregressive generation with a decoder that takes a target (subsequent) mask."""

import torch


def autoregressive_predict(decoder, states, first_input, steps, source_mask=None):
    inputs = first_input                                    # (N, 1, F), grows by one point per step
    predictions = []
    for _ in range(steps):
        t = inputs.shape[1]
        # Position i may look at positions 0..i: the lower triangle, diagonal included, born on the
        # inputs' device.
        target_mask = torch.ones(t, t, dtype=torch.bool, device=inputs.device).tril().unsqueeze(0)
        out = decoder(inputs, states, source_mask, target_mask)   # (N, t, F)
        last = out[:, -1:]                                  # the prediction that follows the last input
        predictions.append(last)                            # returned with its graph
        # Fed back detached: no gradient flows through the prediction loop.
        inputs = torch.cat([inputs, last.detach()], dim=1)
    return torch.cat(predictions, dim=1)                    # (N, steps, F)
