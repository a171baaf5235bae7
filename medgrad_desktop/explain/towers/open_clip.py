"""Tower adapters for open_clip models (``explain.open_clip.OpenClipModel``): open_clip's own
ViT (OpenAI key names, GELU or QuickGELU) and timm's ViT as vision towers; open_clip's causal
text transformer and the BERT text tower (BiomedCLIP) as text towers.

The family specifics (fused ``in_proj`` vs fused ``qkv``, ``ln_pre`` or none, ``ln_post`` vs
``norm`` + ``head.proj``, CLS vs end-token text pooling) live in the tower modules, which all
expose ``embed`` / ``norm1`` / ``qkv`` / ``out_proj`` / ``mlp_residual`` / ``head_embedding``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from medgrad_desktop.explain.towers.base import multi_head_attention


class OpenClipVisionTower:
    """``VisionTower`` over ``OpenClipModel.visual`` (native or timm ViT)."""

    prefix_tokens = 1
    pooled_prefix = True

    def __init__(self, model) -> None:
        self.visual = model.visual
        spec = model.spec.vision
        self.patch_size = spec.patch_size
        self.base_grid = spec.grid
        self.width = spec.width
        self.num_heads = spec.heads

    def positional_embedding(self, gh: int, gw: int) -> torch.Tensor:
        return self.visual.positional_embedding_for(gh, gw)

    def trunk(self, pixels: torch.Tensor) -> torch.Tensor:
        hidden = self.visual.embed(pixels)
        for block in self.visual.blocks[:-1]:
            hidden = block(hidden)
        return hidden

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.visual.qkv(self.visual.norm1(x))

    def attention(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int
    ) -> torch.Tensor:
        return multi_head_attention(q, k, v, heads)

    def out_proj(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.visual.out_proj(tokens)

    def block_output(self, x: torch.Tensor, o: torch.Tensor) -> torch.Tensor:
        return self.visual.mlp_residual(x + self.visual.out_proj(o))

    def embed(self, hidden_prefix: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.visual.head_embedding(hidden_prefix[..., 0, :]), dim=-1)


class OpenClipTextTower:
    """``TextTower`` over ``OpenClipModel.text`` with the folder's tokenizer (BERT WordPiece
    or CLIP BPE) and the model's context length (e.g. 256 tokens for BiomedCLIP)."""

    def __init__(self, model, tokenizer) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.context_length = model.spec.text.context_length

    def tokenize(self, texts: Sequence[str]) -> dict[str, Any]:
        from medgrad_desktop.explain.tokenizer import tokenize

        return tokenize(self.tokenizer, list(texts), context_length=self.context_length)

    def encode(self, tokens: dict[str, Any]) -> torch.Tensor:
        embeds = self.model.encode_text(tokens["input_ids"], tokens.get("attention_mask"))
        return F.normalize(embeds.float(), dim=-1)
