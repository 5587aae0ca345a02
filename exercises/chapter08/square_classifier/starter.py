"""Capstone: a recurrent model that tells in which direction a square was drawn.

Each example is a walk round the corners of a square (see `square_sequences.py`, provided):
2, 3 or 4 noisy corners in order, drawn clockwise (label 1) or counter-clockwise (label 0).
A batch comes padded with zeros to its longest walk, with the real length of each:

    x:       (N, L, 2)  batch-first, rows at and after lengths[i] are padding
    lengths: (N,)       int64, on the same device as x

You choose the recurrent layer: nn.RNN, nn.GRU or nn.LSTM (stacked or bidirectional if you
like). The model returns LOGITS (N, 1): a real number per walk, above 0 for clockwise. No
sigmoid at the end: the grader trains with nn.BCEWithLogitsLoss, which applies it.

The grader checks the logits' shape, that each walk's logit is the one it gets alone (padding
and the rest of the batch change nothing), that the outputs are logits, that the model runs
wherever its inputs live, and then TRAINS it (Adam at 0.01, a fixed seed, 150 steps of 32
walks) and requires an accuracy of at least 90% on fresh walks.
Run `dl-course check square_classifier`.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class SquareClassifier(nn.Module):
    """A recurrent classifier of square walks (batch-first).

    __init__(n_features=2, hidden_dim=8, n_outputs=1): a recurrent layer reading n_features
        per step into hidden_dim units (your choice of nn.RNN, nn.GRU or nn.LSTM), and a
        linear classifier from the final state to n_outputs logits.
    forward(x, lengths): x (N, L, n_features) zero-padded, lengths (N,) → logits (N, n_outputs),
        each computed from that walk's state after its own last real corner.
    """

    def __init__(self, n_features=2, hidden_dim=8, n_outputs=1):
        super().__init__()
        # TODO: create the recurrent layer (batch_first=True) and the linear classifier.
        raise NotImplementedError("SquareClassifier.__init__ is not written yet")

    def forward(self, x, lengths):
        """Logits (N, n_outputs) for a padded batch x (N, L, F) and its lengths (N,)."""
        # TODO: pack x with its lengths (or run the padded batch and read each walk's last real
        #       step), take the final hidden state of the last layer (N, H), and classify it.
        raise NotImplementedError("SquareClassifier.forward is not written yet")
