"""A timm ``VisionTransformer`` trunk (``vit_base_patch16_224`` and kin) with open_clip's
``TimmModel`` head, in timm's key names (``trunk.blocks.N.attn.qkv``, ``trunk.norm``,
``head.proj``): fused qkv, no pre-norm, final norm on all tokens, class-token pooling."""

from __future__ import annotations

import torch
from torch import nn

from medgrad_desktop.explain.open_clip.spec import VisionSpec
from medgrad_desktop.explain.towers.base import interpolate_positions, multi_head_attention


class PatchEmbed(nn.Module):
    def __init__(self, width: int, patch: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, width, patch, patch)


class Attention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(multi_head_attention(*self.qkv(x).chunk(3, -1), self.heads))


class Mlp(nn.Module):
    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = Mlp(width, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformerTrunk(nn.Module):
    """timm's ``VisionTransformer`` with ``num_classes=0`` (its head is the identity)."""

    def __init__(self, spec: VisionSpec) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.empty(1, 1, spec.width))
        self.pos_embed = nn.Parameter(torch.empty(1, spec.grid**2 + 1, spec.width))
        self.patch_embed = PatchEmbed(spec.width, spec.patch_size)
        self.blocks = nn.ModuleList(
            Block(spec.width, spec.heads, spec.mlp_width, spec.eps) for _ in range(spec.layers)
        )
        self.norm = nn.LayerNorm(spec.width, eps=spec.eps)


class ProjectionHead(nn.Module):
    """open_clip ``TimmModel.head`` with ``timm_proj="linear"``: ``head.proj``."""

    def __init__(self, spec: VisionSpec) -> None:
        super().__init__()
        self.proj = nn.Linear(spec.width, spec.embed_dim, bias=spec.head_bias)


class TimmVisionTower(nn.Module):
    """open_clip ``TimmModel``: ``trunk`` + ``head``."""

    num_prefix_tokens = 1

    def __init__(self, spec: VisionSpec) -> None:
        super().__init__()
        self.spec = spec
        self.trunk = VisionTransformerTrunk(spec)
        self.head = ProjectionHead(spec)

    @property
    def blocks(self) -> nn.ModuleList:
        return self.trunk.blocks

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """Tokens (N, 1 + gh·gw, C) entering the first block (class token, then patches)."""
        x = self.trunk.patch_embed.proj(pixels)
        grid_h, grid_w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        cls = self.trunk.cls_token.expand(x.shape[0], -1, -1).to(x.dtype)
        positions = self.positional_embedding_for(grid_h, grid_w)
        return torch.cat([cls, x], dim=1) + positions.to(x.dtype)

    def positional_embedding_for(self, grid_h: int, grid_w: int) -> torch.Tensor:
        """Positions (1 + gh·gw, C), resampled bicubically when the grid is not the model's."""
        return interpolate_positions(self.trunk.pos_embed[0], 1, self.spec.grid, grid_h, grid_w)

    def norm1(self, x: torch.Tensor, block: int = -1) -> torch.Tensor:
        return self.blocks[block].norm1(x)

    def qkv(self, normed: torch.Tensor, block: int = -1):
        return self.blocks[block].attn.qkv(normed).chunk(3, -1)

    def out_proj(self, o: torch.Tensor, block: int = -1) -> torch.Tensor:
        return self.blocks[block].attn.proj(o)

    def mlp_residual(self, h: torch.Tensor, block: int = -1) -> torch.Tensor:
        layer = self.blocks[block]
        return h + layer.mlp(layer.norm2(h))

    def head_embedding(self, cls_token: torch.Tensor) -> torch.Tensor:
        """Image embedding (unnormalised) of the class token leaving the last block."""
        return self.head.proj(self.trunk.norm(cls_token))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.embed(pixels)
        for block in self.blocks:
            x = block(x)
        return self.head_embedding(x[:, 0])
