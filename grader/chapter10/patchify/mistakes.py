"""Known mistakes for patchify: each a whole (wrong) patchify(images, patch_size).

images is (N, C, H, W); the right answer is (N, P, C·p·p), patches in reading order, each
flattened channel, row, column (the order of a Conv2d weight (D, C, p, p) flattened).
"""

import numpy as np
import torch

from dl_course.grading.mistakes import mistake


def _split(images, p):
    n, c, h, w = images.shape
    return images.reshape(n, c, h // p, p, w // p, p), n, c, h // p, w // p   # (N, C, h, p, w, p)


@mistake("channels_last_in_patch", "Inside a patch the channel comes last (row, column, channel: the "
         "'(p1 p2 c)' of einops): a Conv2d's weight (D, C, p, p) flattens channel first, so the patches no longer "
         "line up with the patch embedding. Order them channel, row, column.")
def patchify(images, patch_size):
    x, n, c, rows, cols = _split(images, patch_size)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(n, rows * cols, -1)


@mistake("overlapping_patches", "The patches overlap: unfold with a step of 1 slides the window one pixel at a "
         "time. Patches of a ViT sit side by side: the step (stride) equals the patch size.", provides="patchify")
def overlapping(images, patch_size):
    p = patch_size
    n, c = images.shape[:2]
    x = images.unfold(2, p, 1).unfold(3, p, 1)                  # (N, C, H-p+1, W-p+1, p, p)
    x = x.permute(0, 2, 3, 1, 4, 5)
    return x.reshape(n, x.shape[1] * x.shape[2], c * p * p)


@mistake("columns_first", "The patches are listed column by column (down the first column of patches, then the "
         "next): the patch embedding conv(x).flatten(2) reads them row by row, left to right.", provides="patchify")
def columns_first(images, patch_size):
    x, n, c, rows, cols = _split(images, patch_size)
    return x.permute(0, 4, 2, 1, 3, 5).reshape(n, rows * cols, -1)


@mistake("patch_transposed", "Inside a patch the pixel's column comes before its row: each patch is flattened "
         "transposed. The order is channel, row, column, as in a Conv2d weight.", provides="patchify")
def patch_transposed(images, patch_size):
    x, n, c, rows, cols = _split(images, patch_size)
    return x.permute(0, 2, 4, 1, 5, 3).reshape(n, rows * cols, -1)


@mistake("reshape_without_permute", "The image is reshaped straight to (N, P, C·p·p) without moving any axis: the "
         "memory order of an image is channel, row, column of the whole image, so each 'patch' is a run of "
         "consecutive pixels along a row, not a p×p square. Split H and W, permute, then flatten.",
         provides="patchify")
def reshape_without_permute(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    return images.reshape(n, (h // p) * (w // p), c * p * p)


@mistake("unfold_without_channel_move", "After unfolding H and W into patches, the channel axis stayed in front of "
         "the patch axes (N, C, H/p, W/p, p, p), so flattening mixes channels into the sequence. Move the channel "
         "axis behind the patch axes: permute(0, 2, 3, 1, 4, 5).", provides="patchify")
def unfold_without_channel_move(images, patch_size):
    p = patch_size
    n, c = images.shape[:2]
    x = images.unfold(2, p, p).unfold(3, p, p)                  # (N, C, H/p, W/p, p, p)
    return x.reshape(n, -1, c * p * p)


@mistake("numpy_detour", "The patches are rearranged in numpy and turned back into a tensor: that leaves autograd "
         "(no gradient reaches the image) and the GPU. Stay in torch: reshape, permute, Tensor.unfold.",
         provides="patchify")
def numpy_detour(images, patch_size):
    p = patch_size
    n, c, h, w = images.shape
    a = images.detach().cpu().numpy().reshape(n, c, h // p, p, w // p, p).transpose(0, 2, 4, 1, 3, 5)
    return torch.from_numpy(np.ascontiguousarray(a).reshape(n, -1, c * p * p))


@mistake("output_made_on_cpu", "The output is made with torch.zeros/empty without device= and filled patch by "
         "patch: on a GPU it stays on the CPU and the copy fails. Create it with device=images.device (or "
         "images.new_zeros), or better, build the result with reshape and permute.", provides="patchify")
def output_made_on_cpu(images, patch_size):
    p = patch_size
    n, c, h, w = images.shape
    rows, cols = h // p, w // p
    out = torch.zeros(n, rows * cols, c * p * p, dtype=images.dtype)
    for i in range(rows):
        for j in range(cols):
            out[:, i * cols + j] = images[:, :, i * p:(i + 1) * p, j * p:(j + 1) * p].reshape(n, -1)
    return out
