"""A minimal, independent re-implementation of OpenAI's CLIP (ViT) for conversion tests.

Mirrors ``clip/model.py`` of github.com/openai/CLIP: the same module names (so ``state_dict()``
has OpenAI's keys), ``nn.MultiheadAttention``, QuickGELU, a causal text mask, pooling at the
argmax of the token ids, and ``convert_weights`` (fp16 for conv/linear/attention/projection
weights, LayerNorms and embeddings stay fp32).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in fp32 (OpenAI's subclass)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).to(x.dtype)


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int, attn_mask: torch.Tensor | None = None) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, width * 4)),
                    ("gelu", QuickGELU()),
                    ("c_proj", nn.Linear(width * 4, width)),
                ]
            )
        )
        self.ln_2 = LayerNorm(width)
        self.attn_mask = attn_mask  # a plain attribute: not in the state dict

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = None if self.attn_mask is None else self.attn_mask.to(x.dtype)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, attn_mask=None) -> None:
        super().__init__()
        blocks = [ResidualAttentionBlock(width, heads, attn_mask) for _ in range(layers)]
        self.resblocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [length, batch, width]
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, image_size: int, patch: int, width: int, layers: int, embed: int) -> None:
        super().__init__()
        scale = width**-0.5
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn((image_size // patch) ** 2 + 1, width)
        )
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, width // 64)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x.to(self.conv1.weight.dtype))
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(
            x.shape[0], 1, x.shape[-1], dtype=x.dtype
        )
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class OpenAIClip(nn.Module):
    """OpenAI's ``CLIP`` with a ViT image encoder."""

    def __init__(
        self,
        embed: int = 32,
        image_size: int = 64,
        patch: int = 16,
        vision_width: int = 128,
        vision_layers: int = 2,
        context_length: int = 77,
        vocab_size: int = 49408,
        text_width: int = 128,
        text_layers: int = 2,
    ) -> None:
        super().__init__()
        self.context_length = context_length
        self.visual = VisionTransformer(image_size, patch, vision_width, vision_layers, embed)
        mask = torch.full((context_length, context_length), float("-inf")).triu_(1)
        self.transformer = Transformer(text_width, text_layers, text_width // 64, mask)
        self.token_embedding = nn.Embedding(vocab_size, text_width)
        self.positional_embedding = nn.Parameter(torch.randn(context_length, text_width) * 0.01)
        self.ln_final = LayerNorm(text_width)
        self.text_projection = nn.Parameter(torch.randn(text_width, embed) * text_width**-0.5)
        self.logit_scale = nn.Parameter(torch.ones([]) * torch.log(torch.tensor(1 / 0.07)))

    @property
    def dtype(self) -> torch.dtype:
        return self.visual.conv1.weight.dtype

    def encode_image(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image.to(self.dtype))

    def encode_text(self, text: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(text).to(self.dtype) + self.positional_embedding.to(self.dtype)
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_final(x).to(self.dtype)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection


def convert_weights_to_fp16(model: nn.Module) -> None:
    """OpenAI's ``convert_weights``: fp16 for conv/linear/attention weights and projections."""

    def to_half(module: nn.Module) -> None:
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            module.weight.data = module.weight.data.half()
            if module.bias is not None:
                module.bias.data = module.bias.data.half()
        if isinstance(module, nn.MultiheadAttention):
            for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
                tensor = getattr(module, name)
                if tensor is not None:
                    tensor.data = tensor.data.half()
            for name in ("in_proj_bias", "bias_k", "bias_v"):
                tensor = getattr(module, name)
                if tensor is not None:
                    tensor.data = tensor.data.half()
        for name in ("text_projection", "proj"):
            attribute = getattr(module, name, None)
            if isinstance(attribute, nn.Parameter):
                attribute.data = attribute.data.half()

    model.apply(to_half)


def tiny_openai_clip(seed: int = 0, **sizes) -> OpenAIClip:
    """A random tiny OpenAI CLIP whose weights are fp16 where OpenAI's checkpoints are."""
    torch.manual_seed(seed)
    model = OpenAIClip(**sizes).eval()
    with torch.no_grad():  # non-trivial LayerNorm affine parameters
        for name, parameter in model.named_parameters():
            if "ln_" in name:
                parameter.add_(0.1 * torch.randn_like(parameter))
    convert_weights_to_fp16(model)
    return model


def float32_copy(model: OpenAIClip) -> OpenAIClip:
    """The same (fp16-rounded) weights in fp32, to compute a float32 reference forward."""
    sizes = {
        "embed": model.text_projection.shape[1],
        "image_size": model.visual.conv1.kernel_size[0]
        * round((model.visual.positional_embedding.shape[0] - 1) ** 0.5),
        "patch": model.visual.conv1.kernel_size[0],
        "vision_width": model.visual.conv1.out_channels,
        "vision_layers": len(model.visual.transformer.resblocks),
        "context_length": model.context_length,
        "vocab_size": model.token_embedding.num_embeddings,
        "text_width": model.token_embedding.embedding_dim,
        "text_layers": len(model.transformer.resblocks),
    }
    copy = OpenAIClip(**sizes).eval()
    copy.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    return copy
