"""Reference: a norm-first sub-layer wrapper, output = x + drop(sublayer(norm(x)))."""

from torch import nn


class SubLayerWrapper(nn.Module):
    def __init__(self, d_model, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, sublayer):
        # Only the sub-layer's branch is normalised and dropped out; x itself runs past them
        # untouched, so the residual path carries the inputs straight to the top of the stack.
        return x + self.drop(sublayer(self.norm(x)))
