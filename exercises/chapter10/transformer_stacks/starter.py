"""Stacks of Transformer layers: the encoder and the decoder of a full Transformer.

Fill in `EncoderTransf` and `DecoderTransf`, then run `dl-course check transformer_stacks`.

Each stack is given ONE layer and makes `n_layers` independent copies of it. Two layers to try
them with are provided in stack_layers.py (PyTorch's own norm-first layers, wrapped to take this
course's arguments and masks); your own layers from the two previous exercises work the same
way. The positional encoding is chapter 9's, PROVIDED in positional_encoding.py.

The grader compares your stacks with PyTorch's nn.TransformerEncoder / nn.TransformerDecoder
(built with norm=nn.LayerNorm(d_model)) holding the same weights, after the same positional
encoding; using those two modules here is not allowed.
"""

import copy

import torch
from torch import nn

from positional_encoding import PositionalEncoding


class EncoderTransf(nn.Module):
    """A stack of encoder layers:

        x = pe(x);  x = layer_1(x, source_mask);  ...;  x = layer_n(x, source_mask);  out = norm(x)

    Args:
        layer: an encoder layer (a module with a `d_model` attribute, called as
            layer(x, source_mask)); the stack holds n_layers independent copies of it.
        n_layers: how many layers to stack.
        max_len: the longest sequence the positional encoding must cover.

    Sub-modules (keep these names: the grader loads weights into them):
        pe = PositionalEncoding(max_len, d_model)
        layers = nn.ModuleList of n_layers independent deep copies of `layer`
        norm = nn.LayerNorm(d_model), the final normalization
    """

    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__()
        self.d_model = layer.d_model
        # TODO: build self.pe, self.layers and self.norm as the docstring lists them.
        raise NotImplementedError("EncoderTransf.__init__ is not written yet")

    def forward(self, x, source_mask=None):
        """Encode a source sequence.

        Args:
            x: (N, L, D), the projected source sequence (L <= max_len).
            source_mask: None, or a torch.bool tensor broadcastable to (N, L, L), usually
                (N, 1, L); True means "may be attended to".

        Returns:
            (N, L, D): the encoder's states.
        """
        # TODO: positional encoding once, then every layer in turn (each with the mask),
        #       then the final norm.
        raise NotImplementedError("EncoderTransf.forward is not written yet")


class DecoderTransf(nn.Module):
    """A stack of decoder layers:

        x = pe(x);  x = layer_i(x, states, source_mask, target_mask) for each layer;  out = norm(x)

    Every layer reads the same `states`: the final output of the encoder.

    Args and sub-modules: as for EncoderTransf (pe, layers, norm), with decoder layers called as
        layer(x, states, source_mask, target_mask).
    """

    def __init__(self, layer, n_layers=1, max_len=100):
        super().__init__()
        self.d_model = layer.d_model
        # TODO: build self.pe, self.layers and self.norm.
        raise NotImplementedError("DecoderTransf.__init__ is not written yet")

    def forward(self, x, states, source_mask=None, target_mask=None):
        """Decode a (shifted) target sequence.

        Args:
            x: (N, Lt, D), the projected target sequence (Lt <= max_len).
            states: (N, Ls, D), the encoder's states.
            source_mask: None, or bool broadcastable to (N, Lt, Ls), True = may attend.
            target_mask: None, or bool broadcastable to (N, Lt, Lt), usually the (1, Lt, Lt)
                subsequent mask.

        Returns:
            (N, Lt, D): one vector per target position (the model's last linear layer, outside
            this class, turns them into predictions).
        """
        # TODO: positional encoding once, then every layer with the same states and masks,
        #       then the final norm.
        raise NotImplementedError("DecoderTransf.forward is not written yet")
