"""The tower interfaces (see the package docstring) and the positional-embedding resampling
that every ViT family shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch
import torch.nn.functional as F


def interpolate_positions(
    positions: torch.Tensor, prefix: int, base_grid: int, gh: int, gw: int
) -> torch.Tensor:
    """Positional embeddings (prefix + g0², C) for a (gh, gw) patch grid: the prefix rows as
    they are, the patch rows resampled bicubically (align_corners=False) from (g0, g0); the
    model's own embeddings unchanged when (gh, gw) == (g0, g0)."""
    if (gh, gw) == (base_grid, base_grid):
        return positions
    head, patches = positions[:prefix], positions[prefix:]
    channels = patches.shape[-1]
    grid = patches.reshape(1, base_grid, base_grid, channels).permute(0, 3, 1, 2)
    grid = F.interpolate(grid.float(), size=(gh, gw), mode="bicubic", align_corners=False)
    patches = grid.permute(0, 2, 3, 1).reshape(gh * gw, channels).to(positions.dtype)
    return torch.cat([head, patches], dim=0)


class VisionTower(Protocol):
    """A ViT image encoder seen as a trunk plus its last block written as pure functions."""

    patch_size: int
    base_grid: int
    prefix_tokens: int
    width: int
    num_heads: int
    pooled_prefix: bool

    def positional_embedding(self, gh: int, gw: int) -> torch.Tensor: ...

    def trunk(self, pixels: torch.Tensor) -> torch.Tensor: ...

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def attention(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int
    ) -> torch.Tensor: ...

    def out_proj(self, tokens: torch.Tensor) -> torch.Tensor: ...

    def block_output(self, x: torch.Tensor, o: torch.Tensor) -> torch.Tensor: ...

    def embed(self, hidden_prefix: torch.Tensor) -> torch.Tensor: ...


class TextTower(Protocol):
    """A text encoder: tokenisation and normalised embeddings."""

    def tokenize(self, texts: Sequence[str]) -> dict[str, Any]: ...

    def encode(self, tokens: dict[str, Any]) -> torch.Tensor: ...


def multi_head_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    heads: int,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Softmax attention over (..., T, C) tensors split into ``heads`` heads of width C/heads,
    scale (C/heads)^-0.5; returns o (..., T, C) with the heads concatenated. ``mask``: an
    optional additive (T, T) mask (a text tower's causal mask)."""
    *lead, tokens, channels = q.shape
    head_dim = channels // heads

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(*lead, t.shape[-2], heads, head_dim).transpose(-2, -3)

    scores = split(q) @ split(k).transpose(-1, -2) * head_dim**-0.5
    weights = torch.softmax(scores if mask is None else scores + mask, dim=-1)
    return (weights @ split(v)).transpose(-2, -3).reshape(*lead, tokens, channels)
