"""The last vision layer of a CLIP model written out as pure functions of its inputs, so that
the gradients of all K prompts come from ``torch.func.vjp`` + ``vmap`` through this layer only."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class LastVisionLayer:
    """Pure-function view of the last encoder layer plus the pooling head of a ``CLIPModel``.

    Token tensors are (T, C) for one image: the CLS token first, then the patches.
    """

    def __init__(self, model) -> None:
        vision = model.vision_model
        self.layer = vision.encoder.layers[-1]
        self.attention = self.layer.self_attn
        self.post_layernorm = vision.post_layernorm
        self.projection = model.visual_projection
        self.num_heads = int(self.attention.num_heads)

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q, k, v (T, C) of ``layer_norm1(x)``, all heads concatenated."""
        normed = self.layer.layer_norm1(x)
        return (
            self.attention.q_proj(normed),
            self.attention.k_proj(normed),
            self.attention.v_proj(normed),
        )

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Multi-head softmax attention output o (T, C), before ``out_proj``."""
        tokens, channels = q.shape
        head_dim = channels // self.num_heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(tokens, self.num_heads, head_dim).transpose(0, 1)

        weights = torch.softmax(split(q) @ split(k).transpose(-1, -2) * head_dim**-0.5, dim=-1)
        return (weights @ split(v)).transpose(0, 1).reshape(tokens, channels)

    def cls_embedding(self, o_cls: torch.Tensor, x_cls: torch.Tensor) -> torch.Tensor:
        """Normalised image embedding (D,) as a function of the CLS attention output."""
        hidden = x_cls + self.attention.out_proj(o_cls)
        hidden = hidden + self.layer.mlp(self.layer.layer_norm2(hidden))
        embedding = self.projection(self.post_layernorm(hidden))
        return F.normalize(embedding, dim=-1)

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised image embedding (D,) as a function of the tokens entering the layer."""
        q, k, v = self.qkv(x)
        return self.cls_embedding(self.attend(q, k, v)[0], x[0])


def vision_trunk(model, pixel_values: torch.Tensor) -> torch.Tensor:
    """Tokens entering the last vision layer, (1, T, C), computed without gradients."""
    vision = model.vision_model
    with torch.no_grad():
        hidden = vision.pre_layrnorm(vision.embeddings(pixel_values))
        for layer in vision.encoder.layers[:-1]:
            hidden = layer(hidden, None)
    return hidden
