"""A bidirectional RNN from two cells.

Fill in `run_bidirectional`, then run `dl-course check bidirectional_rnn`.
`torch.nn.RNN` (and the layer kernels behind it) are off limits here: the point is to see
what a bidirectional layer does with its two directions. Call the two cells you are given
(nn.RNNCell), one step at a time.
"""

import torch


def run_bidirectional(cell_fwd, cell_bwd, x):
    """Run a one-layer bidirectional RNN, as nn.RNN(bidirectional=True, batch_first=True) does.

    Args:
        cell_fwd: the forward direction's cell (the layer's `_l0` weights), e.g.
            nn.RNNCell(F, H): cell(x_t, h) takes x_t (N, F) and h (N, H), returns (N, H).
        cell_bwd: the backward direction's cell (the `_l0_reverse` weights), same sizes.
        x: the sequences, batch first: (N, L, F). Both directions start from zeros.

    Returns:
        (outputs, h_n):
            outputs: (N, L, 2H). outputs[:, t, :H] is the forward state after reading
                steps 0..t; outputs[:, t, H:] is the backward state after reading steps
                L-1 down to t. Both halves are in step order.
            h_n: (2, N, H), each direction's FINAL state: h_n[0] the forward one,
                h_n[1] the backward one. Not batch first, like nn.RNN's.
    """
    # TODO: run cell_fwd over the steps in order, and cell_bwd over them in reverse order.
    # TODO: put the backward states back in step order, join the two along the features,
    #       and return them with each direction's final state.
    raise NotImplementedError("run_bidirectional is not written yet")
