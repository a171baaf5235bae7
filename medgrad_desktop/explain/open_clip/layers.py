"""Building blocks shared by the open_clip towers: activations, attention, positions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class QuickGELU(nn.Module):
    """OpenAI CLIP's activation, x · sigmoid(1.702 x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


def activation(name: str) -> nn.Module:
    """``nn.GELU`` (exact, open_clip's and timm's default) or ``QuickGELU``."""
    return QuickGELU() if name == "quick_gelu" else nn.GELU()


def multi_head_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Softmax attention over (..., T, C) with ``heads`` heads; output before the out projection.

    ``mask`` is additive, broadcast to (..., heads, T, T).
    """
    *batch, tokens, channels = q.shape
    head_dim = channels // heads

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(*batch, t.shape[-2], heads, head_dim).transpose(-3, -2)

    scores = split(q) @ split(k).transpose(-1, -2) * head_dim**-0.5
    if mask is not None:
        scores = scores + mask
    out = torch.softmax(scores, dim=-1) @ split(v)
    return out.transpose(-3, -2).reshape(*batch, tokens, channels)


def grid_positions(
    positions: torch.Tensor, grid: int, grid_h: int, grid_w: int, prefix: int = 1
) -> torch.Tensor:
    """Positional embeddings (prefix + grid_h·grid_w, C) from a square table of ``grid``².

    Unchanged when the grid is the trained one; otherwise the patch part is interpolated
    bicubically (align_corners=False), the prefix rows kept.
    """
    if (grid_h, grid_w) == (grid, grid):
        return positions
    head, patches = positions[:prefix], positions[prefix:]
    channels = patches.shape[-1]
    square = patches.reshape(1, grid, grid, channels).permute(0, 3, 1, 2)
    resized = F.interpolate(square, size=(grid_h, grid_w), mode="bicubic", align_corners=False)
    return torch.cat([head, resized.permute(0, 2, 3, 1).reshape(-1, channels)], dim=0)
