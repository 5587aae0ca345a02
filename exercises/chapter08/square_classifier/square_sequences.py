"""Provided: the square-direction data set (you do not write this; use it to experiment).

A square's corners are A (-1, -1), B (-1, 1), C (1, 1) and D (1, -1). Each sequence starts at a
random corner and walks round the square, clockwise (A→B→C→D→A…, label 1) or counter-clockwise
(label 0), with a little Gaussian noise on every point. Sequences are 2, 3 or 4 corners long: two
corners already tell the direction. A batch is padded with zeros to its longest sequence, and the
lengths say how many rows of each sequence are real.

    batch = make_batch(32, torch.Generator().manual_seed(0))
    x, lengths = batch["train_args"]      # (32, 4, 2) padded, (32,) int64 lengths
    batch["target"]                       # (32, 1) floats: 1.0 clockwise, 0.0 counter-clockwise
"""

import torch

CORNERS = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
NOISE = 0.2


def make_batch(n, generator=None, min_len=2, max_len=4):
    """`n` noisy square walks: "train_args" = "eval_args" = (x (n, L, 2) zero-padded to the longest,
    lengths (n,) int64), "target" (n, 1) floats 1.0 / 0.0 and "labels" (n,) the same as integers."""
    first = torch.randint(0, 4, (n, 1), generator=generator)
    clockwise = torch.randint(0, 2, (n,), generator=generator)
    way = (clockwise * 2 - 1).unsqueeze(1)                      # +1 clockwise, -1 counter-clockwise
    corners = (first + way * torch.arange(4)) % 4               # (n, 4) corner indices in order
    points = CORNERS[corners] + NOISE * torch.randn(n, 4, 2, generator=generator)
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=generator)
    real = torch.arange(4) < lengths.unsqueeze(1)               # (n, 4): True where a corner is real
    x = (points * real.unsqueeze(2))[:, :int(lengths.max())]
    return {"train_args": (x, lengths), "eval_args": (x, lengths), "target": clockwise.float().unsqueeze(1),
            "labels": clockwise}
