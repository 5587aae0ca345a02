"""Reference: the capstone Transformer for square sequences."""

import torch
import torch.nn as nn

from decoder_cross_attention import DecoderLayer
from encoder_self_attention import EncoderLayer
from positional_encoding import PositionalEncoding
from subsequent_mask import subsequent_mask


class SquareTransformer(nn.Module):
    def __init__(self, n_features=2, d_model=32, n_heads=4, ff_units=64, max_len=8, target_len=2):
        super().__init__()
        self.target_len = target_len
        self.proj_in = nn.Linear(n_features, d_model)
        self.pe = PositionalEncoding(max_len, d_model)
        self.encoder = EncoderLayer(d_model, n_heads, ff_units)
        self.decoder = DecoderLayer(d_model, n_heads, ff_units)
        self.proj_out = nn.Linear(d_model, n_features)

    def decode(self, inputs, states):
        # The mask grows with the decoder's input: position t sees inputs 0..t only.
        mask = subsequent_mask(inputs.shape[1], device=inputs.device)
        return self.proj_out(self.decoder(self.pe(self.proj_in(inputs)), states, None, mask))

    def forward(self, source, target=None):
        states = self.encoder(self.pe(self.proj_in(source)))
        if target is not None:
            # Teacher forcing, all steps at once: the input at step t is the true point t-1.
            shifted = torch.cat([source[:, -1:], target[:, :-1]], dim=1)
            return self.decode(shifted, states)
        inputs = source[:, -1:]
        for _ in range(self.target_len):
            step = self.decode(inputs, states)[:, -1:]
            inputs = torch.cat([inputs, step.detach()], dim=1)
        return inputs[:, 1:]
