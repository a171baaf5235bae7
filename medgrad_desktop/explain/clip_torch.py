"""CLIP in the Hugging Face layout, for inference, in plain torch: ``TorchClip``.

The same modules, names and arithmetic as transformers' ``CLIPModel`` (pre-norm ViT with a
class token, causal text transformer pooled at its end token, bias-free projections), so a
Hugging Face folder's weights load into it strictly and every tower adapter, LeGrad and the
sanity checks see the structure they know. It exists because importing transformers' modelling
code costs seconds before the first map (its package import pulls in torch.distributed, sympy
and scipy); the viewer opens Hugging Face folders with it, and training converts it with
``to_transformers`` when it needs transformers' training API. ``tests/unit/test_clip_torch.py``
holds it to transformers' outputs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain.open_clip.layers import QuickGELU, empty_embedding

ACTIVATIONS = {  # config.json's hidden_act → the module (open_clip's QuickGELU for OpenAI's)
    "quick_gelu": QuickGELU,
    "gelu": nn.GELU,
    "gelu_new": functools.partial(nn.GELU, approximate="tanh"),
    "gelu_pytorch_tanh": functools.partial(nn.GELU, approximate="tanh"),
    "relu": nn.ReLU,
    "silu": nn.SiLU,
}


@dataclass
class TowerSettings:
    """One tower's sizes as ``config.json`` states them, with transformers' defaults (text
    defaults; ``vision`` replaces the ones that differ)."""

    hidden_size: int = 512
    intermediate_size: int = 2048
    num_hidden_layers: int = 12
    num_attention_heads: int = 8
    max_position_embeddings: int = 77
    vocab_size: int = 49408
    eos_token_id: int = 49407
    image_size: int = 224
    patch_size: int = 32
    num_channels: int = 3
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-5


VISION_DEFAULTS = {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12}


@dataclass
class ClipSettings:
    """A CLIP ``config.json``: ``vision_config``, ``text_config``, ``projection_dim`` and the
    file's own dict (``raw``, for transformers' ``CLIPConfig`` when training needs it)."""

    vision_config: TowerSettings
    text_config: TowerSettings
    projection_dim: int = 512
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, raw: Mapping, name: str) -> ClipSettings:
        """Settings of a parsed ``config.json``; ``ModelLoadError`` naming ``name`` for values
        this model cannot use (sizes are checked against the weights by ``model_checks``)."""
        towers = {}
        for key, defaults in (("vision_config", VISION_DEFAULTS), ("text_config", {})):
            given = raw.get(key) or raw.get(f"{key}_dict") or {}
            if not isinstance(given, Mapping):
                raise _not_clip(name, f"{key} = {given!r}")
            known = {f.name for f in dataclasses.fields(TowerSettings)}
            values = {**defaults, **{k: v for k, v in given.items() if k in known}}
            if values.get("eos_token_id") is None or isinstance(values["eos_token_id"], list):
                values["eos_token_id"] = TowerSettings.eos_token_id  # as transformers pools
            towers[key] = TowerSettings(**values)
            act = towers[key].hidden_act
            if act not in ACTIVATIONS:
                raise ModelLoadError(
                    f"The model in {name} uses the activation '{act}', which MedGrad cannot run.",
                    f"{key}.hidden_act = {act!r}",
                )
            eps = towers[key].layer_norm_eps
            if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
                raise _not_clip(name, f"{key}.layer_norm_eps = {eps!r}")
        return cls(**towers, projection_dim=raw.get("projection_dim", 512), raw=dict(raw))


def _not_clip(name: str, details: str) -> ModelLoadError:
    return ModelLoadError(f"The model settings in {name} are not those of a CLIP model.", details)


class Attention(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        width = s.hidden_size
        self.num_heads = s.num_attention_heads
        self.k_proj, self.v_proj = nn.Linear(width, width), nn.Linear(width, width)
        self.q_proj, self.out_proj = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        n, tokens, width = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(n, tokens, self.num_heads, width // self.num_heads).transpose(1, 2)

        q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(o.transpose(1, 2).reshape(n, tokens, width))


class MLP(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.activation_fn = ACTIVATIONS[s.hidden_act]()
        self.fc1 = nn.Linear(s.hidden_size, s.intermediate_size)
        self.fc2 = nn.Linear(s.intermediate_size, s.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.activation_fn(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.self_attn = Attention(s)
        self.layer_norm1 = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.mlp = MLP(s)
        self.layer_norm2 = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class Encoder(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(s) for _ in range(s.num_hidden_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return x


class TowerOutput(NamedTuple):
    last_hidden_state: torch.Tensor
    pooler_output: torch.Tensor


class VisionEmbeddings(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.class_embedding = nn.Parameter(torch.empty(s.hidden_size))
        size, patch = s.image_size, s.patch_size
        self.patch_embedding = nn.Conv2d(s.num_channels, s.hidden_size, patch, patch, bias=False)
        self.position_embedding = empty_embedding((size // patch) ** 2 + 1, s.hidden_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(pixels.to(self.patch_embedding.weight.dtype))
        patches = patches.flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight


class VisionTransformer(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.embeddings = VisionEmbeddings(s)
        self.pre_layrnorm = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.encoder = Encoder(s)
        self.post_layernorm = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)

    def forward(self, pixel_values: torch.Tensor) -> TowerOutput:
        hidden = self.encoder(self.pre_layrnorm(self.embeddings(pixel_values)))
        return TowerOutput(hidden, self.post_layernorm(hidden[:, 0]))


class TextEmbeddings(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.token_embedding = empty_embedding(s.vocab_size, s.hidden_size)
        self.position_embedding = empty_embedding(s.max_position_embeddings, s.hidden_size)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = self.position_embedding.weight[: input_ids.shape[-1]]
        return self.token_embedding(input_ids) + positions


class TextTransformer(nn.Module):
    def __init__(self, s: TowerSettings) -> None:
        super().__init__()
        self.embeddings = TextEmbeddings(s)
        self.encoder = Encoder(s)
        self.final_layer_norm = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.eos_token_id = s.eos_token_id

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> TowerOutput:
        """Causal attention over the tokens, pads (mask 0) hidden; pooled at the end token:
        the first ``eos_token_id``, or the highest id for old configs whose end id is 2."""
        x = self.embeddings(input_ids)
        tokens = input_ids.shape[-1]
        allowed = torch.ones(tokens, tokens, dtype=torch.bool, device=x.device).tril()
        if attention_mask is not None:
            allowed = allowed & attention_mask.bool()[:, None, None, :]
        hidden = self.final_layer_norm(self.encoder(x, allowed))
        ids = input_ids.to(torch.int)
        end = (
            ids.argmax(-1)
            if self.eos_token_id == 2
            else (ids == self.eos_token_id).int().argmax(-1)
        )
        return TowerOutput(hidden, hidden[torch.arange(hidden.shape[0], device=x.device), end])


class TorchClip(nn.Module):
    """``CLIPModel``'s inference half: ``vision_model``, ``text_model``, the two projections,
    ``logit_scale`` and ``config`` (``ClipSettings``)."""

    def __init__(self, config: ClipSettings) -> None:
        super().__init__()
        self.config = config
        vision, text = config.vision_config, config.text_config
        self.text_model = TextTransformer(text)
        self.vision_model = VisionTransformer(vision)
        self.visual_projection = nn.Linear(vision.hidden_size, config.projection_dim, bias=False)
        self.text_projection = nn.Linear(text.hidden_size, config.projection_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.empty(()))

    @classmethod
    def from_state_dict(cls, config: ClipSettings, state: Mapping[str, torch.Tensor]):
        """The model holding ``state`` (Hugging Face key names; ``position_ids`` ignored), built
        without random initialisation. Raises ``ValueError`` naming missing or extra keys."""
        with torch.device("meta"):
            model = cls(config)
        weights = {k: v for k, v in state.items() if not k.endswith("position_ids")}
        missing, unexpected = model.load_state_dict(weights, strict=False, assign=True)
        if missing or unexpected:
            raise ValueError(f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
        return model.eval()

    def to_transformers(self) -> Any:
        """The same weights in a transformers ``CLIPModel`` (for training), fp32 on the CPU."""
        from transformers import CLIPConfig, CLIPModel

        model = CLIPModel(CLIPConfig.from_dict(self.config.raw))
        model.load_state_dict({k: v.detach().float().cpu() for k, v in self.state_dict().items()})
        return model
