"""What the recurrent cells' suites share."""

from __future__ import annotations

import math

import torch

# (input size, hidden size): a small cell, and one with enough values that a uniform draw
# over [-bound, bound] reaches past 0.7·bound with certainty (for all practical purposes).
INIT_SIZES = ((3, 4), (8, 64))


def initial_spread(name: str):
    """A probe for `grade.same`: for fresh cells `name(F, H)`, whether every parameter lies in
    [-1/√H, 1/√H] (PyTorch's reset_parameters) and whether the values fill that range."""

    def probe(t):
        out = []
        for f, h in INIT_SIZES:
            cell = t.new(name, f, h)
            state = t.state(cell)
            values = torch.cat([p.values.detach().flatten().double() for p in state["parameters"].values()
                                if p.values is not None])
            bound = 1.0 / math.sqrt(h)
            largest = float(values.abs().max()) if values.numel() else 0.0
            out.append((f"{name}({f}, {h})", largest <= bound * (1 + 1e-6), h < 16 or largest >= 0.7 * bound))
        return out

    return probe


def initial_message(name: str) -> str:
    return (f"a fresh {name}(F, H) must start as torch.nn.{name} does: every parameter drawn uniformly from "
            "[-1/sqrt(H), 1/sqrt(H)] (reset_parameters, given in the starter, does exactly that; keep it)")
