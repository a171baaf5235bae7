"""open_clip's own ViT image tower and causal text transformer, with OpenAI's key names
(``conv1``, ``transformer.resblocks.N.attn.in_proj_weight``, ``ln_post``, ``proj``, …), so a
checkpoint loads strictly and saves back in the same layout. GELU or QuickGELU."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from medgrad_desktop.explain.open_clip.layers import activation, empty_embedding
from medgrad_desktop.explain.open_clip.spec import TextSpec, VisionSpec
from medgrad_desktop.explain.towers.base import interpolate_positions, multi_head_attention


class InProjAttention(nn.Module):
    """Attention weights stored as ``nn.MultiheadAttention`` stores them (fused in_proj)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj = nn.Linear(width, width)

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return torch.nn.functional.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, -1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.out_proj(multi_head_attention(*self.qkv(x), self.heads, mask))


class ResidualAttentionBlock(nn.Module):
    """Pre-norm block: x + attn(ln_1 x), then + mlp(ln_2 x)."""

    def __init__(self, width: int, heads: int, mlp_width: int, act: str, eps: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=eps)
        self.attn = InProjAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width, eps=eps)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, mlp_width)),
                    ("gelu", activation(act)),
                    ("c_proj", nn.Linear(mlp_width, width)),
                ]
            )
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, mlp_width: int, act: str, eps: float):
        super().__init__()
        self.resblocks = nn.ModuleList(
            ResidualAttentionBlock(width, heads, mlp_width, act, eps) for _ in range(layers)
        )


class NativeVisionTransformer(nn.Module):
    """open_clip ``VisionTransformer`` (class token pooling, ``ln_pre``, ``ln_post``, ``proj``)."""

    num_prefix_tokens = 1

    def __init__(self, spec: VisionSpec) -> None:
        super().__init__()
        self.spec = spec
        width = spec.width
        self.conv1 = nn.Conv2d(3, width, spec.patch_size, spec.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(torch.empty(spec.grid**2 + 1, width))
        self.ln_pre = nn.LayerNorm(width, eps=spec.eps)
        self.transformer = Transformer(
            width, spec.layers, spec.heads, spec.mlp_width, spec.activation, spec.eps
        )
        self.ln_post = nn.LayerNorm(width, eps=spec.eps)
        self.proj = nn.Parameter(torch.empty(width, spec.embed_dim))

    @property
    def blocks(self) -> nn.ModuleList:
        return self.transformer.resblocks

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """Tokens (N, 1 + gh·gw, C) entering the first block."""
        x = self.conv1(pixels)
        grid_h, grid_w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1).to(x.dtype)
        positions = self.positional_embedding_for(grid_h, grid_w)
        return self.ln_pre(torch.cat([cls, x], dim=1) + positions.to(x.dtype))

    # The last block and the head as pure functions of their inputs (one image: (T, C)).
    def positional_embedding_for(self, grid_h: int, grid_w: int) -> torch.Tensor:
        """Positions (1 + gh·gw, C), resampled bicubically when the grid is not the model's."""
        return interpolate_positions(self.positional_embedding, 1, self.spec.grid, grid_h, grid_w)

    def norm1(self, x: torch.Tensor, block: int = -1) -> torch.Tensor:
        return self.blocks[block].ln_1(x)

    def qkv(self, normed: torch.Tensor, block: int = -1):
        return self.blocks[block].attn.qkv(normed)

    def out_proj(self, o: torch.Tensor, block: int = -1) -> torch.Tensor:
        return self.blocks[block].attn.out_proj(o)

    def mlp_residual(self, h: torch.Tensor, block: int = -1) -> torch.Tensor:
        layer = self.blocks[block]
        return h + layer.mlp(layer.ln_2(h))

    def head_embedding(self, cls_token: torch.Tensor) -> torch.Tensor:
        """Image embedding (unnormalised) of the class token leaving the last block."""
        return self.ln_post(cls_token) @ self.proj

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.embed(pixels)
        for block in self.blocks:
            x = block(x)
        return self.head_embedding(x[:, 0])


class NativeTextTransformer(nn.Module):
    """open_clip ``TextTransformer``: causal mask, ``ln_final``, pooling at the end token
    (the highest id, OpenAI's argmax), ``text_projection`` matrix."""

    def __init__(self, spec: TextSpec) -> None:
        super().__init__()
        self.spec = spec
        self.token_embedding = empty_embedding(spec.vocab_size, spec.width)
        self.positional_embedding = nn.Parameter(torch.empty(spec.positions, spec.width))
        self.transformer = Transformer(
            spec.width, spec.layers, spec.heads, spec.mlp_width, spec.activation, spec.eps
        )
        self.ln_final = nn.LayerNorm(spec.width, eps=spec.eps)
        self.text_projection = nn.Parameter(torch.empty(spec.width, spec.embed_dim))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None):
        """Text embeddings (N, D), unnormalised. Padding after the end token is harmless
        (causal mask), so ``attention_mask`` is not needed."""
        length = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.positional_embedding[:length]
        mask = torch.full((length, length), float("-inf"), device=x.device).triu_(1)
        for block in self.transformer.resblocks:
            x = block(x, mask.to(x.dtype))
        x = self.ln_final(x)
        pooled = x[torch.arange(x.shape[0], device=x.device), input_ids.argmax(dim=-1)]
        return pooled @ self.text_projection
