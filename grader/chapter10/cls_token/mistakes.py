"""Known mistakes for cls_token: each a whole (wrong) PatchEmbeddingWithCLS."""

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Token(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))


@mistake("token_appended", "The token is appended after the patches: [CLS] goes FIRST, so that states[:, 0] "
         "is its hidden state. torch.cat([tokens, x], dim=1).", provides="PatchEmbeddingWithCLS")
class TokenAppended(_Token):
    def forward(self, x):
        return torch.cat([x, self.cls_token.expand(x.shape[0], -1, -1)], dim=1)


@mistake("detached_repeat", "The token is copied out of autograd (.detach() or .data) before repeat: the output "
         "holds the right values, but no gradient reaches cls_token, so it never learns. repeat or expand the "
         "parameter itself.", provides="PatchEmbeddingWithCLS")
class DetachedRepeat(_Token):
    def forward(self, x):
        return torch.cat([self.cls_token.detach().repeat(x.shape[0], 1, 1), x], dim=1)


@mistake("token_as_buffer", "The token is registered as a buffer: buffers are saved and moved with the model, "
         "but they are not parameters, so the optimizer never updates it. Make it an nn.Parameter.",
         provides="PatchEmbeddingWithCLS")
class TokenAsBuffer(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.register_buffer("cls_token", torch.zeros(1, 1, d_model))

    def forward(self, x):
        return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)


@mistake("plain_tensor_token", "The token is a plain tensor attribute (even with requires_grad=True): the module "
         "does not register it, so it is missing from parameters() (the optimizer never sees it), from the state "
         "dict, and from .to(device). Wrap it in nn.Parameter.", provides="PatchEmbeddingWithCLS")
class PlainTensorToken(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.cls_token = torch.zeros(1, 1, d_model, requires_grad=True)

    def forward(self, x):
        return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)


@mistake("token_added", "The token is ADDED to every patch (x + cls_token), as a positional embedding would be: "
         "[CLS] is an extra element of the sequence, concatenated in front, (N, 1 + P, D).",
         provides="PatchEmbeddingWithCLS")
class TokenAdded(_Token):
    def forward(self, x):
        return x + self.cls_token


@mistake("token_not_3d", "The token is a (1, D) (or (D,)) parameter: keep it (1, 1, D), one batch row and one "
         "sequence position, so it loads from (and saves as) the layout the model expects.",
         provides="PatchEmbeddingWithCLS")
class TokenNot3d(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, d_model))

    def forward(self, x):
        return torch.cat([self.cls_token.expand(x.shape[0], -1).unsqueeze(1), x], dim=1)


@mistake("random_start", "The token starts random: it starts at zeros (torch.zeros(1, 1, D)), as in the book; "
         "training moves it from there.", provides="PatchEmbeddingWithCLS")
class RandomStart(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, d_model))

    def forward(self, x):
        return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)


@mistake("fresh_zeros_each_call", "forward prepends fresh zeros, not the parameter: the output never changes when "
         "cls_token learns (and the zeros are made on the CPU). Expand self.cls_token.",
         provides="PatchEmbeddingWithCLS")
class FreshZeros(_Token):
    def forward(self, x):
        zeros = torch.zeros(x.shape[0], 1, x.shape[2], dtype=x.dtype)
        return torch.cat([zeros, x], dim=1)
