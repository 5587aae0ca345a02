"""Run an RNN cell over whole sequences.

Fill in `run_rnn`, then run `dl-course check rnn_over_sequence`.
`torch.nn.RNN` (and the layer kernels behind it) are off limits here: the point is to write
the loop that such a layer runs for you. Call the cell you are given (an nn.RNNCell), one step
at a time.
"""

import torch


def run_rnn(cell, x, h0=None):
    """Run `cell` over every step of a batch of sequences, as nn.RNN(batch_first=True) does.

    Args:
        cell: an RNN cell, e.g. nn.RNNCell(F, H): cell(x_t, h) takes x_t (N, F) and
            h (N, H) and returns the next hidden state (N, H). Use it as it is.
        x: the sequences, batch first: (N, L, F).
        h0: the initial hidden state, (1, N, H) like nn.RNN's (one layer, one direction);
            None means zeros, with x's dtype and on x's device.

    Returns:
        (outputs, h_n):
            outputs: (N, L, H), the hidden state after every step, batch first;
            h_n: (1, N, H), the hidden state after the last step: like nn.RNN's h_n it is
                NOT batch first.
    """
    # TODO: start from h0 (or zeros), call the cell once per step, feeding each new hidden state
    #       back in, collect the states, and return them with the last one.
    raise NotImplementedError("run_rnn is not written yet")
