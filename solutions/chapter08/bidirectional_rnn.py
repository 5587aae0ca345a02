"""Reference: a one-layer bidirectional RNN from two cells, as nn.RNN(bidirectional=True, batch_first=True)."""

import torch


def _run(cell, x):
    """The states of `cell` run over x (N, L, F) from step 0 to step L - 1: a list of L (N, H)."""
    h, states = None, []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return states


def run_bidirectional(cell_fwd, cell_bwd, x):
    forward = _run(cell_fwd, x)
    backward = _run(cell_bwd, torch.flip(x, dims=[1]))  # reads the last point first
    out_fwd = torch.stack(forward, dim=1)                              # (N, L, H)
    out_bwd = torch.flip(torch.stack(backward, dim=1), dims=[1])       # back in step order
    outputs = torch.cat([out_fwd, out_bwd], dim=2)                     # (N, L, 2H)
    # Each direction's FINAL state: the forward one after step L - 1, the backward one after
    # it has read step 0 (the last state it computed).
    h_n = torch.stack([forward[-1], backward[-1]])                     # (2, N, H)
    return outputs, h_n
