"""Known mistakes for vit_classifier: each a whole model, wrong in one way.

They share a correct skeleton (`_Model`, not itself a mistake) and override one step.
"""

import torch
from torch import nn

from cls_token import PatchEmbeddingWithCLS
from dl_course.grading.mistakes import mistake


class _Model(nn.Module):
    batch_first, norm_first = True, True

    def __init__(self, img_size=12, in_channels=1, patch_size=4, n_classes=3, d_model=16, n_heads=2,
                 ff_units=32, n_layers=1):
        super().__init__()
        self.embed = nn.Conv2d(in_channels, d_model, kernel_size=patch_size, stride=patch_size)
        self.cls = PatchEmbeddingWithCLS(d_model)
        self.pos = nn.Parameter(torch.zeros(1, 1 + (img_size // patch_size) ** 2, d_model))
        layer = nn.TransformerEncoderLayer(d_model, n_heads, ff_units, dropout=0.0, batch_first=self.batch_first,
                                           norm_first=self.norm_first)
        self.encoder = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.mlp = nn.Linear(d_model, n_classes)

    def patches(self, images):
        return self.embed(images).flatten(2).transpose(1, 2)

    def sequence(self, patches):
        return self.cls(patches) + self.pos

    def read(self, states):
        return states[:, 0]

    def forward(self, images):
        return self.mlp(self.read(self.encoder(self.sequence(self.patches(images)))))


@mistake("reads_last_state", "The classifier reads the LAST state, states[:, -1]: the [CLS] token sits at position "
         "0, so its state is states[:, 0].", provides="ViTClassifier")
class ReadsLastState(_Model):
    def read(self, states):
        return states[:, -1]


@mistake("mean_of_states", "The classifier reads the mean of all the states: this model has a [CLS] token to "
         "summarise the image, and its state is states[:, 0].", provides="ViTClassifier")
class MeanOfStates(_Model):
    def read(self, states):
        return states.mean(dim=1)


@mistake("keeps_position_dim", "The [CLS] state is taken as states[:, :1], (N, 1, D), so the logits are "
         "(N, 1, n_classes): states[:, 0] is (N, D) (the book's comment 'N, 1, D' is wrong).",
         provides="ViTClassifier")
class KeepsPositionDim(_Model):
    def read(self, states):
        return states[:, :1]


@mistake("no_position_embedding", "The position vectors `pos` are never added: self-attention alone cannot tell "
         "where a patch came from. Add self.pos to the sequence once the token is in front.",
         provides="ViTClassifier")
class NoPositionEmbedding(_Model):
    def sequence(self, patches):
        return self.cls(patches)


@mistake("encoder_not_batch_first", "The encoder layer is built without batch_first=True, so it reads (N, L, D) as "
         "(L, N, D) and attends across the batch instead of across the patches of each image.",
         provides="ViTClassifier")
class EncoderNotBatchFirst(_Model):
    batch_first = False


@mistake("encoder_norm_last", "The encoder layer is norm-last (PyTorch's default, norm_first=False): this model's "
         "sub-layers are norm-first, x + sublayer(norm(x)).", provides="ViTClassifier")
class EncoderNormLast(_Model):
    norm_first = False


@mistake("embedding_not_transposed", "The convolution's output is flattened to (N, D, P) but not transposed: the "
         "sequence must be (N, P, D), one row per patch. Add .transpose(1, 2).", provides="ViTClassifier")
class EmbeddingNotTransposed(_Model):
    def patches(self, images):
        return self.embed(images).flatten(2)
