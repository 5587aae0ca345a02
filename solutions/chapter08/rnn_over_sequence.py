"""Reference: run an RNN cell over a batch-first sequence, as nn.RNN(batch_first=True) does."""

import torch


def run_rnn(cell, x, h0=None):
    # nn.RNN keeps its state as (layers * directions, N, H); the cell wants (N, H).
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)  # x[:, t] is step t of every sequence: (N, F)
        states.append(h)
    outputs = torch.stack(states, dim=1)  # L states of (N, H) -> (N, L, H)
    return outputs, h.unsqueeze(0)       # h_n is (1, N, H), never batch first
