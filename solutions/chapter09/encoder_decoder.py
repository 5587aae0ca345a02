"""Reference: the encoder-decoder wrapper with teacher forcing (batch-first, one coin per step)."""

import torch
from torch import nn


class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder, input_len, target_len, teacher_forcing_prob=0.5):
        super().__init__()
        # As attributes, the two halves are sub-modules: their parameters belong to this model.
        self.encoder = encoder
        self.decoder = decoder
        self.input_len = input_len
        self.target_len = target_len
        self.teacher_forcing_prob = teacher_forcing_prob

    def forward(self, X):
        source = X[:, :self.input_len]            # (N, input_len, F)
        target = X[:, self.input_len:]            # (N, target_len, F) in training; empty in evaluation

        # The decoder's memory starts as the encoder's last state, once per batch.
        self.decoder.init_hidden(self.encoder(source))

        inputs = source[:, -1:]                   # the last known point, (N, 1, F)
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)            # (N, 1, F); the decoder updates its own memory
            outputs.append(out)
            # rand() lies in [0, 1): p = 1 always forces, p = 0 never does. Only in training mode.
            if self.training and torch.rand(1).item() < self.teacher_forcing_prob:
                inputs = target[:, i:i + 1]       # the true point i, keeping the length dimension
            else:
                inputs = out                      # the prediction, still in the graph
        # cat follows the outputs' device and dtype: nothing is created by hand.
        return torch.cat(outputs, dim=1)          # (N, target_len, F)
