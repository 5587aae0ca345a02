"""Reference: greedy autoregressive generation with a decoder that takes a target (subsequent) mask.

The book's convention: the inputs grow by one detached prediction per step, and the answer is the
inputs without their first point, so the predictions come back detached.
"""

import torch


def autoregressive_predict(decoder, states, first_input, steps, source_mask=None):
    inputs = first_input                                    # (N, 1, F), grows by one point per step
    for _ in range(steps):
        t = inputs.shape[1]
        # Position i may look at positions 0..i: the lower triangle, diagonal included, born on the
        # inputs' device.
        target_mask = torch.ones(t, t, dtype=torch.bool, device=inputs.device).tril().unsqueeze(0)
        out = decoder(inputs, states, source_mask, target_mask)   # (N, t, F)
        # Only the last position is new. Appended, the whole sequence is detached: a prediction is
        # plain data from now on, and no graph is kept from one step to the next.
        inputs = torch.cat([inputs, out[:, -1:]], dim=1).detach()
    return inputs[:, 1:]                                    # (N, steps, F): first_input left out
