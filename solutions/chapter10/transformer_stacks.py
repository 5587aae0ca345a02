"""Reference: stacks of Transformer layers. Each stack holds independent deep copies of the layer
it is given, adds positional encoding once to its inputs, and normalises its final output (the
layers are norm-first, so the last layer's output has not been normalised yet)."""

import copy

from torch import nn

from positional_encoding import PositionalEncoding


class EncoderTransf(nn.Module):
    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__()
        self.d_model = layer.d_model
        self.pe = PositionalEncoding(max_len, self.d_model)
        self.layers = nn.ModuleList([copy.deepcopy(layer) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(self.d_model)

    def forward(self, x, source_mask=None):
        x = self.pe(x)
        for layer in self.layers:
            x = layer(x, source_mask)
        return self.norm(x)


class DecoderTransf(nn.Module):
    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__()
        self.d_model = layer.d_model
        self.pe = PositionalEncoding(max_len, self.d_model)
        self.layers = nn.ModuleList([copy.deepcopy(layer) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(self.d_model)

    def forward(self, x, states, source_mask=None, target_mask=None):
        x = self.pe(x)
        for layer in self.layers:
            # Every layer's cross-attention reads the same (final) states of the encoder.
            x = layer(x, states, source_mask, target_mask)
        return self.norm(x)
