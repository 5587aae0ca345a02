"""Provided: the line-images data set (you do not write this; use it to experiment).

Square single-channel images, black (-1) except for one white (+1) line, in three classes:
    0: a whole row or a whole column (a line parallel to an edge)
    1: a diagonal tilted to the right, like /
    2: a diagonal tilted to the left, like \\
Pixels are 0 or 1 first, then shifted and scaled to -1 and +1 ((x - 0.5) / 0.5), as in the book.

    batch = make_batch(32, torch.Generator().manual_seed(0))
    images, = batch["train_args"]      # (32, 1, 12, 12)
    batch["labels"]                    # (32,) class indices
    batch["target"]                    # the same labels: what CrossEntropyLoss trains toward
"""

import torch

SIZE = 12
N_CLASSES = 3


def line_images(labels, generator=None, size=SIZE):
    """One image per label, (N, 1, size, size), pixels -1 (background) and +1 (the line)."""
    n = labels.shape[0]
    rows = torch.arange(size).view(1, size, 1)
    cols = torch.arange(size).view(1, 1, size)
    # Parallel lines: a row or a column, anywhere.
    index = torch.randint(0, size, (n, 1, 1), generator=generator)
    vertical = torch.randint(0, 2, (n, 1, 1), generator=generator).bool()
    parallel = torch.where(vertical, cols == index, rows == index)
    # Diagonals at least two pixels long: row + col = k for /, row - col = k for \.
    rising = (rows + cols) == torch.randint(1, 2 * size - 2, (n, 1, 1), generator=generator)
    falling = (rows - cols) == torch.randint(-(size - 2), size - 1, (n, 1, 1), generator=generator)
    which = labels.view(n, 1, 1)
    line = torch.where(which == 0, parallel, torch.where(which == 1, rising, falling))
    return (line.float().unsqueeze(1) - 0.5) / 0.5


def make_batch(n, generator=None):
    """`n` labelled images: "train_args" = (images,), "eval_args" = (images,), and the class
    indices (N,) as both "labels" and "target" (what nn.CrossEntropyLoss compares the logits with)."""
    labels = torch.randint(0, N_CLASSES, (n,), generator=generator)
    images = line_images(labels, generator)
    return {"train_args": (images,), "eval_args": (images,), "labels": labels, "target": labels}
