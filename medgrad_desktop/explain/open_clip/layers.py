"""Layers of the plain-torch towers: the open_clip activations (GELU or OpenAI's QuickGELU) and
an embedding table built without random initialisation."""

from __future__ import annotations

import torch
from torch import nn


class QuickGELU(nn.Module):
    """OpenAI CLIP's activation, x · sigmoid(1.702 x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


def activation(name: str) -> nn.Module:
    """``nn.GELU`` (exact, open_clip's and timm's default) or ``QuickGELU``."""
    return QuickGELU() if name == "quick_gelu" else nn.GELU()


def empty_embedding(rows: int, width: int) -> nn.Embedding:
    """An embedding table left uninitialised (its weights are loaded next). Built on the meta
    device, ``nn.Embedding``'s own ``normal_`` init imports torch's compiler: seconds."""
    return nn.Embedding(rows, width, _weight=torch.empty(rows, width))
