"""Activations of the open_clip towers (GELU or OpenAI's QuickGELU)."""

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
