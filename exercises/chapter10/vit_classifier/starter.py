"""Capstone: a small vision transformer that tells lines apart.

The model reads a 12×12 single-channel image (see `line_images.py`, provided) and says which of
three kinds of line it holds: 0 a row or a column, 1 a diagonal like /, 2 a diagonal like \\.
It uses YOUR PatchEmbeddingWithCLS from cls_token.py (pass cls_token first) and PyTorch's own
Transformer encoder.

The grader checks the layout of the parameters, the shapes, the values and gradients against a
reference holding the same weights, that it runs wherever its inputs live, and then TRAINS it
(Adam, a fixed seed, 200 steps of 32 images, nn.CrossEntropyLoss between your logits and the
class indices, so return raw logits: no softmax) and requires an accuracy of at least 90% on
fresh images. Run `dl-course check vit_classifier`.
"""

import torch
from torch import nn

from cls_token import PatchEmbeddingWithCLS


class ViTClassifier(nn.Module):
    """A vision transformer classifier (batch-first).

    Sub-modules and parameters (exactly these names, so the grader can load a reference's weights):
        embed:   nn.Conv2d(in_channels, d_model, kernel_size=patch_size, stride=patch_size)
        cls:     PatchEmbeddingWithCLS(d_model)          (its parameter: cls.cls_token)
        pos:     nn.Parameter of shape (1, 1 + P, d_model), zeros to begin with, with
                 P = (img_size // patch_size) ** 2: one learned vector per position
        encoder: nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d_model)), where
                 layer = nn.TransformerEncoderLayer(d_model, n_heads, ff_units, dropout=0.0,
                                                    batch_first=True, norm_first=True)
        mlp:     nn.Linear(d_model, n_classes)

    forward(images): images (N, in_channels, img_size, img_size) → logits (N, n_classes):
        patch embeddings (N, P, D) → [CLS] in front (N, 1 + P, D) → + pos → encoder →
        the state at position 0 (N, D) → mlp.
    """

    def __init__(self, img_size=12, in_channels=1, patch_size=4, n_classes=3, d_model=16, n_heads=2,
                 ff_units=32, n_layers=1):
        super().__init__()
        # TODO: create embed, cls, pos, encoder and mlp as described above.
        raise NotImplementedError("ViTClassifier.__init__ is not written yet")

    def forward(self, images):
        """Logits (N, n_classes) for a batch of images (N, C, H, W)."""
        # TODO: conv, flatten and transpose to (N, P, D); prepend the token; add pos; encode;
        #       read the [CLS] state; classify.
        raise NotImplementedError("ViTClassifier.forward is not written yet")
