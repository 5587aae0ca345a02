"""Reference: cut images into non-overlapping p×p patches, each flattened channel-first."""


def patchify(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    rows, cols = h // p, w // p
    # Split each spatial axis into (which patch, where inside the patch).
    x = images.reshape(n, c, rows, p, cols, p)      # (N, C, H/p, p, W/p, p)
    # Patches first (row of patches, then column), then what is inside one: channel, row, column.
    x = x.permute(0, 2, 4, 1, 3, 5)                 # (N, H/p, W/p, C, p, p)
    return x.reshape(n, rows * cols, c * p * p)     # (N, P, C·p·p)
