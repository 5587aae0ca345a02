"""Reference: the square-sequence model built around nn.Transformer (batch-first).

The model brings the pieces nn.Transformer leaves out: a projection of the features to d_model,
the positional encoding and a layer norm on the inputs of both stacks (nn.Transformer does not
normalise its inputs), the causal target mask in PyTorch's convention, the shifted target in
training, the prediction loop in eval mode, and a last linear layer back to the features.
"""

import torch
from torch import nn

from positional_encoding import PositionalEncoding


class TransformerModel(nn.Module):
    def __init__(self, transformer, input_len, target_len, n_features):
        super().__init__()
        self.transf = transformer
        self.input_len = input_len
        self.target_len = target_len
        self.n_features = n_features
        d_model = transformer.d_model
        self.proj = nn.Linear(n_features, d_model)
        # The decoder never reads more than target_len points, the encoder input_len.
        self.pe = PositionalEncoding(max(input_len, target_len), d_model)
        self.norm = nn.LayerNorm(d_model)
        self.linear = nn.Linear(d_model, n_features)

    def preprocess(self, seq):
        # (N, L, F) -> (N, L, d_model): project, encode positions, normalise.
        return self.norm(self.pe(self.proj(seq)))

    def encode_decode(self, source, target, source_mask=None):
        # Our padding mask (N, 1, Ls), True = real data -> PyTorch's (N, Ls), True = ignore. The
        # decoder's cross-attention must skip the padded states too (the memory's padding mask).
        padding = None if source_mask is None else ~source_mask[:, 0]
        # 0.0 on and below the diagonal, -inf above: added to the scores of the decoder's
        # self-attention, it hides every later position; sized, placed and typed as the target.
        causal = nn.Transformer.generate_square_subsequent_mask(target.shape[1], device=target.device,
                                                                dtype=target.dtype)
        out = self.transf(self.preprocess(source), self.preprocess(target), tgt_mask=causal,
                          src_key_padding_mask=padding, memory_key_padding_mask=padding)
        return self.linear(out)

    def predict(self, source, source_mask=None):
        # Start from the last source point; each round runs the decoder on everything so far and
        # keeps the prediction of its last position.
        inputs = source[:, -1:]
        for _ in range(self.target_len):
            out = self.encode_decode(source, inputs, source_mask)
            inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
        return inputs[:, 1:]

    def forward(self, X, source_mask=None):
        source = X[:, :self.input_len]
        if self.training:
            # Teacher forcing: the decoder reads the last source point and every target point but
            # the last, so its output t is the prediction of target point t.
            shifted = X[:, self.input_len - 1:-1]
            return self.encode_decode(source, shifted, source_mask)
        return self.predict(source, source_mask)
