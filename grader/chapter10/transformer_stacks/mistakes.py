"""Known mistakes for transformer_stacks. Each mistake is one wrong class, EncoderTransf or
DecoderTransf (the other name is taken from the correct pair at the top of this file)."""

import copy

from torch import nn

from dl_course.grading.mistakes import mistake
from positional_encoding import PositionalEncoding


class EncoderTransf(nn.Module):
    """Correct (not a mistake): stands beside the wrong DecoderTransf variants."""

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
    """Correct (not a mistake): stands beside the wrong EncoderTransf variants."""

    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__()
        self.d_model = layer.d_model
        self.pe = PositionalEncoding(max_len, self.d_model)
        self.layers = nn.ModuleList([copy.deepcopy(layer) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(self.d_model)

    def forward(self, x, states, source_mask=None, target_mask=None):
        x = self.pe(x)
        for layer in self.layers:
            x = layer(x, states, source_mask, target_mask)
        return self.norm(x)


@mistake("shared_layer", "The stack holds the same layer object n times ([layer] * n_layers, or the layer "
         "itself in a loop), so every \"layer\" runs the same weights: one layer's parameters, used n times. "
         "Make independent copies: nn.ModuleList([copy.deepcopy(layer) for _ in range(n_layers)]).",
         provides="EncoderTransf")
class SharedLayer(EncoderTransf):
    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__(layer, n_layers, max_len)
        self.layers = nn.ModuleList([layer] * n_layers)


@mistake("no_final_norm", "The final layer normalization is built but never applied: with norm-first layers "
         "the last layer's output has never been normalised as a whole, so the stack ends with self.norm(x).",
         provides="DecoderTransf")
class NoFinalNorm(DecoderTransf):
    def forward(self, x, states, source_mask=None, target_mask=None):
        x = self.pe(x)
        for layer in self.layers:
            x = layer(x, states, source_mask, target_mask)
        return x


@mistake("pe_per_layer", "The positional encoding is applied before every layer: it belongs once, to the "
         "stack's inputs. (Each application also scales x by sqrt(d_model) again.)", provides="EncoderTransf")
class PEPerLayer(EncoderTransf):
    def forward(self, x, source_mask=None):
        for layer in self.layers:
            x = layer(self.pe(x), source_mask)
        return self.norm(x)


@mistake("norm_per_layer", "The final norm is applied after every layer, not once at the end: norm-first layers "
         "normalise their own inputs, and the stack's norm comes only after the last layer.",
         provides="EncoderTransf")
class NormPerLayer(EncoderTransf):
    def forward(self, x, source_mask=None):
        x = self.pe(x)
        for layer in self.layers:
            x = self.norm(layer(x, source_mask))
        return x


@mistake("no_positional_encoding", "The positional encoding is never applied, so the layers cannot tell one "
         "position from another: x = self.pe(x) first, once.", provides="DecoderTransf")
class NoPositionalEncoding(DecoderTransf):
    def forward(self, x, states, source_mask=None, target_mask=None):
        for layer in self.layers:
            x = layer(x, states, source_mask, target_mask)
        return self.norm(x)


@mistake("masks_swapped", "The decoder layers get the two masks in the wrong order: a decoder layer is "
         "called as layer(x, states, source_mask, target_mask).", provides="DecoderTransf")
class MasksSwapped(DecoderTransf):
    def forward(self, x, states, source_mask=None, target_mask=None):
        x = self.pe(x)
        for layer in self.layers:
            x = layer(x, states, target_mask, source_mask)
        return self.norm(x)


@mistake("decoder_shared_layer", "The decoder stack holds the same layer object n times, so every \"layer\" "
         "runs the same weights. Make independent copies: nn.ModuleList([copy.deepcopy(layer) for _ in "
         "range(n_layers)]).", provides="DecoderTransf")
class DecoderSharedLayer(DecoderTransf):
    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__(layer, n_layers, max_len)
        self.layers = nn.ModuleList([layer for _ in range(n_layers)])
