"""Provided: the square-corners data set (you do not write this; use it to experiment).

Each sequence walks the four corners of a square, starting at a random corner and turning
clockwise or counter-clockwise; every point gets a little Gaussian noise. The first two corners
are the source, the next two the target.

    batch = make_batch(32, torch.Generator().manual_seed(0))
    source, target = batch["train_args"]        # (32, 2, 2) each
"""

import torch

CORNERS = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
NOISE = 0.1


def make_batch(n, generator=None):
    """`n` noisy square sequences, split into source and target (both (n, 2, 2)).

    Returns a dict: "train_args" = (source, target) for the model in training mode,
    "eval_args" = (source,) for prediction, and "target".
    """
    start = torch.randint(0, 4, (n, 1), generator=generator)
    turn = torch.randint(0, 2, (n, 1), generator=generator) * 2 - 1  # +1 clockwise, -1 counter-clockwise
    order = (start + turn * torch.arange(4)) % 4
    points = CORNERS[order] + NOISE * torch.randn(n, 4, 2, generator=generator)
    source, target = points[:, :2], points[:, 2:]
    return {"train_args": (source, target), "eval_args": (source,), "target": target}
