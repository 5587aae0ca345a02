"""What the Transformer layers' and stacks' suites share: the accepted parameter layouts, masks
in PyTorch's convention, and padding masks for the cases."""

from __future__ import annotations

import re

import torch


def canonical(name: str) -> str:
    """The documented name of a parameter of any accepted layout: `sublayers.i.norm.*` (a
    ModuleList of SubLayerWrapper, as the book builds it) is `norm{i+1}.*`, and an ffn built
    without its nn.Dropout (`ffn.2`) is `ffn.3`."""
    m = re.fullmatch(r"sublayers\.(\d+)\.norm\.(weight|bias)", name)
    if m:
        return f"norm{int(m.group(1)) + 1}.{m.group(2)}"
    m = re.fullmatch(r"ffn\.2\.(weight|bias)", name)
    if m:
        return f"ffn.3.{m.group(1)}"
    return name


def documented(run):
    """The run with its parameter gradients under the documented names."""
    grads = run.get("grads") if isinstance(run, dict) else None
    if isinstance(grads, dict) and isinstance(grads.get("params"), dict):
        grads["params"] = {canonical(k): v for k, v in grads["params"].items()}
    return run


def torch_mask(mask, n, lq, lk, heads):
    """This course's bool mask (True = may attend, broadcastable to (N, Lq, Lk)) as
    nn.MultiheadAttention's attn_mask: True = may NOT attend, one (Lq, Lk) slice per head."""
    if mask is None:
        return None
    return (~mask.expand(n, lq, lk)).repeat_interleave(heads, dim=0)


def padding_mask(c, n, length):
    """(N, 1, L): sequence i keeps its first lengths[i] positions, 1 <= lengths[i] < L."""
    lengths = c.randint(1, length, n)
    return (torch.arange(length, device=c.device) < lengths.unsqueeze(-1)).unsqueeze(1)
