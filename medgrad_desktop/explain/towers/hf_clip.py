"""Tower adapters for CLIP in the Hugging Face layout: ``explain.clip_torch.TorchClip``
(Hugging Face folders and the demo model) and transformers' ``CLIPModel`` (OpenAI-format state
dicts converted on loading, and models being trained)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from medgrad_desktop.explain.towers.base import interpolate_positions, multi_head_attention


class HFClipVisionTower:
    """``VisionTower`` over ``CLIPModel.vision_model`` and ``visual_projection``."""

    prefix_tokens = 1
    pooled_prefix = True

    def __init__(self, model) -> None:
        vision = model.vision_model
        self.vision = vision
        self.embeddings = vision.embeddings
        self.block = vision.encoder.layers[-1]
        self.attn = self.block.self_attn
        self.projection = model.visual_projection
        config = model.config.vision_config
        self.patch_size = int(config.patch_size)
        self.base_grid = int(config.image_size) // self.patch_size
        self.width = int(config.hidden_size)
        self.num_heads = int(config.num_attention_heads)

    def positional_embedding(self, gh: int, gw: int) -> torch.Tensor:
        weight = self.embeddings.position_embedding.weight
        return interpolate_positions(weight, self.prefix_tokens, self.base_grid, gh, gw)

    def tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        """The tokens entering the first encoder layer, (N, 1 + gh·gw, C)."""
        gh, gw = pixels.shape[-2] // self.patch_size, pixels.shape[-1] // self.patch_size
        weight = self.embeddings.patch_embedding.weight
        patches = self.embeddings.patch_embedding(pixels.to(weight.dtype))
        patches = patches.flatten(2).transpose(1, 2)  # (N, gh·gw, C)
        cls = self.embeddings.class_embedding.to(patches.dtype).expand(patches.shape[0], 1, -1)
        tokens = torch.cat([cls, patches], dim=1) + self.positional_embedding(gh, gw)
        return self.vision.pre_layrnorm(tokens)

    def trunk(self, pixels: torch.Tensor) -> torch.Tensor:
        hidden = self.tokens(pixels)
        for layer in self.vision.encoder.layers[:-1]:
            hidden = layer(hidden, None)
        return hidden

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        normed = self.block.layer_norm1(x)
        return self.attn.q_proj(normed), self.attn.k_proj(normed), self.attn.v_proj(normed)

    def attention(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int
    ) -> torch.Tensor:
        return multi_head_attention(q, k, v, heads)

    def out_proj(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.attn.out_proj(tokens)

    def block_output(self, x: torch.Tensor, o: torch.Tensor) -> torch.Tensor:
        hidden = x + self.attn.out_proj(o)
        return hidden + self.block.mlp(self.block.layer_norm2(hidden))

    def embed(self, hidden_prefix: torch.Tensor) -> torch.Tensor:
        pooled = self.vision.post_layernorm(hidden_prefix[..., 0, :])
        return F.normalize(self.projection(pooled), dim=-1)


class HFClipTextTower:
    """``TextTower`` over ``CLIPModel.text_model`` and ``text_projection``."""

    def __init__(self, model, tokenizer, context_length: int = 77) -> None:
        self.model = model
        self.tokenizer = tokenizer
        limit = int(model.config.text_config.max_position_embeddings)
        self.context_length = min(context_length, limit)

    def tokenize(self, texts: Sequence[str]) -> dict[str, Any]:
        from medgrad_desktop.explain.tokenizer import tokenize

        return tokenize(self.tokenizer, list(texts), context_length=self.context_length)

    def encode(self, tokens: dict[str, Any]) -> torch.Tensor:
        output = self.model.text_model(**tokens)
        embeds = self.model.text_projection(output.pooler_output).float()
        return F.normalize(embeds, dim=-1)
