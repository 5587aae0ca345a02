"""Images as sequences: cutting an image into patches.

Fill in `patchify`, then run `dl-course check patchify`.
`torch.nn.functional.unfold` / `nn.Unfold` would do the whole job in one call, so they are
off limits; `Tensor.unfold`, `reshape`/`view` and `permute` are all you need.
"""

import torch


def patchify(images, patch_size):
    """Cut every image into non-overlapping square patches and flatten each patch.

    Args:
        images: (N, C, H, W); H and W are multiples of patch_size.
        patch_size: p, the side of a patch in pixels.

    Returns:
        (N, P, C·p·p) with P = (H/p)·(W/p), on the images' device and in their dtype.
        Patches are in reading order: left to right along the first row of patches, then
        the next row, and so on. Inside a patch the C·p·p values are ordered channel first,
        then the pixel's row, then its column: patches[n, i, (ch·p + r)·p + s] is
        images[n, ch, top + r, left + s], where (top, left) is patch i's upper-left corner.
        That is the order of a Conv2d's weight (D, C, p, p) flattened, so
        patchify(x, p) @ conv.weight.flatten(1).T + conv.bias equals the patch embedding
        conv(x).flatten(2).transpose(1, 2) of nn.Conv2d(C, D, kernel_size=p, stride=p).
    """
    # TODO: split H into (H/p, p) and W into (W/p, p), bring the two "which patch" axes to the
    #       front (after N), then flatten them into P and the rest into C·p·p.
    raise NotImplementedError("patchify is not written yet")
