"""Known mistakes for sublayer_wrapper: each class is a whole (wrong) SubLayerWrapper.

All of them build norm = nn.LayerNorm(d_model) and drop = nn.Dropout(dropout) as the exercise
asks; only forward differs. x is (N, L, D); `sublayer` is the callable handed in.

Order matters once: with dropout = 1 in training mode, dropout_on_residual and no_residual both give 0,
so the one that passes the dropout-0 checks (dropout_on_residual) comes first.
"""

import torch.nn.functional as F
from torch import nn

from dl_course.grading.mistakes import mistake


class _Parts(nn.Module):
    def __init__(self, d_model, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)


@mistake("norm_last", "This is the norm-last wrapper, norm(x + drop(sublayer(x))), from \"Attention Is All You "
         "Need\". The exercise (and the rest of the chapter) uses norm-first: x + drop(sublayer(norm(x))), which "
         "normalises the sub-layer's input and leaves the residual path untouched.", provides="SubLayerWrapper")
class NormLast(_Parts):
    def forward(self, x, sublayer):
        return self.norm(x + self.drop(sublayer(x)))


@mistake("residual_from_normalised", "The residual adds the normalised input, norm(x) + drop(sublayer(norm(x))): "
         "the residual connection adds x as it came in, so that the inputs flow up the stack unchanged.",
         provides="SubLayerWrapper")
class ResidualFromNormalised(_Parts):
    def forward(self, x, sublayer):
        x = self.norm(x)
        return x + self.drop(sublayer(x))


@mistake("dropout_on_residual", "Dropout is applied after the addition, drop(x + sublayer(norm(x))), so it also "
         "drops parts of the residual path x: only the sub-layer's branch is dropped out, "
         "x + drop(sublayer(norm(x))).", provides="SubLayerWrapper")
class DropoutOnResidual(_Parts):
    def forward(self, x, sublayer):
        return self.drop(x + sublayer(self.norm(x)))


@mistake("no_residual", "There is no residual connection: the output is drop(sublayer(norm(x))) alone. Add the "
         "input back, x + drop(sublayer(norm(x))).", provides="SubLayerWrapper")
class NoResidual(_Parts):
    def forward(self, x, sublayer):
        return self.drop(sublayer(self.norm(x)))


@mistake("no_norm", "The sub-layer gets x itself, x + drop(sublayer(x)): norm-first normalises the sub-layer's "
         "input, sublayer(norm(x)).", provides="SubLayerWrapper")
class NoNorm(_Parts):
    def forward(self, x, sublayer):
        return x + self.drop(sublayer(x))


@mistake("norm_on_output", "The norm is applied to the sub-layer's output, x + drop(norm(sublayer(x))): in the "
         "norm-first wrapper it is the sub-layer's input that is normalised, x + drop(sublayer(norm(x))).",
         provides="SubLayerWrapper")
class NormOnOutput(_Parts):
    def forward(self, x, sublayer):
        return x + self.drop(self.norm(sublayer(x)))


@mistake("dropout_before_sublayer", "Dropout is applied to the sub-layer's input, sublayer(drop(norm(x))): it "
         "belongs on the sub-layer's output, x + drop(sublayer(norm(x))).", provides="SubLayerWrapper")
class DropoutBeforeSublayer(_Parts):
    def forward(self, x, sublayer):
        return x + sublayer(self.drop(self.norm(x)))


@mistake("dropout_not_applied", "self.drop is built but never used: the sub-layer's output goes into the sum "
         "without dropout, x + sublayer(norm(x)). Wrap it: x + self.drop(sublayer(norm(x))).",
         provides="SubLayerWrapper")
class DropoutNotApplied(_Parts):
    def forward(self, x, sublayer):
        return x + sublayer(self.norm(x))


@mistake("dropout_always_on", "Dropout stays on in evaluation mode: F.dropout(y, p) has training=True by default. "
         "Use the module self.drop (it follows .train() and .eval()), or pass training=self.training.",
         provides="SubLayerWrapper")
class DropoutAlwaysOn(_Parts):
    def forward(self, x, sublayer):
        return x + F.dropout(sublayer(self.norm(x)), self.drop.p)
