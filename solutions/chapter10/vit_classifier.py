"""Reference: a small vision transformer for the line images."""

import torch
from torch import nn

from cls_token import PatchEmbeddingWithCLS


class ViTClassifier(nn.Module):
    def __init__(self, img_size=12, in_channels=1, patch_size=4, n_classes=3, d_model=16, n_heads=2,
                 ff_units=32, n_layers=1):
        super().__init__()
        n_patches = (img_size // patch_size) ** 2
        # Cut and project in one go: one kernel visit per patch.
        self.embed = nn.Conv2d(in_channels, d_model, kernel_size=patch_size, stride=patch_size)
        self.cls = PatchEmbeddingWithCLS(d_model)
        # One learned vector per position: the [CLS] token's and each patch's.
        self.pos = nn.Parameter(torch.zeros(1, 1 + n_patches, d_model))
        layer = nn.TransformerEncoderLayer(d_model, n_heads, ff_units, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.mlp = nn.Linear(d_model, n_classes)

    def forward(self, images):
        patches = self.embed(images).flatten(2).transpose(1, 2)   # (N, P, D)
        seq = self.cls(patches) + self.pos                        # (N, 1 + P, D)
        states = self.encoder(seq)                                # (N, 1 + P, D)
        return self.mlp(states[:, 0])                             # (N, n_classes): logits
