"""What training needs to know of each model family: where its transformer blocks are, which
layers LoRA adapts by default, and which modules stay trainable with frozen layers.

Families: transformers ``CLIPModel`` (Hugging Face folders, OpenAI-format files, the demo) and
open_clip models (``OpenClipModel``: open_clip's own ViT and text transformer, timm ViT, BERT).
"""

from __future__ import annotations

import re

from torch import nn

from medgrad_desktop.errors import DataError
from medgrad_desktop.explain.open_clip.model import OpenClipModel
from medgrad_desktop.explain.open_clip.spec import BERT, TIMM

TOWERS = ("image", "text")
# Default LoRA targets per tower family (module names inside one transformer block).
TIMM_TARGETS = ("qkv", "proj", "fc1", "fc2")
BERT_TARGETS = ("query", "key", "value", "dense")
NATIVE_TARGETS = ("out_proj", "c_fc", "c_proj")  # the fused in_proj is a bare parameter
HF_CLIP_TARGETS = ("q_proj", "v_proj")


def image_text_features(model: nn.Module, pixel_values, input_ids, attention_mask):
    """Unnormalised image and text embeddings (N, D), (K, D) of either family."""
    if isinstance(model, OpenClipModel):
        return model.encode_image(pixel_values), model.encode_text(input_ids, attention_mask)
    image = model.visual_projection(model.vision_model(pixel_values=pixel_values).pooler_output)
    words = model.text_model(input_ids=input_ids, attention_mask=attention_mask)
    return image, model.text_projection(words.pooler_output)


def _blocks(model: nn.Module, tower: str) -> tuple[str, nn.ModuleList]:
    """(name prefix, blocks) of one tower's transformer blocks."""
    if isinstance(model, OpenClipModel):
        if tower == "image":
            if model.spec.vision.kind == TIMM:
                return "visual.trunk.blocks", model.visual.trunk.blocks
            return "visual.transformer.resblocks", model.visual.transformer.resblocks
        if model.spec.text.kind == BERT:
            return "text.transformer.encoder.layer", model.text.transformer.encoder.layer
        return "text.transformer.resblocks", model.text.transformer.resblocks
    side = "vision_model" if tower == "image" else "text_model"
    return f"{side}.encoder.layers", getattr(model, side).encoder.layers


def default_lora_targets(model: nn.Module, tower: str) -> tuple[str, ...]:
    """The layers LoRA adapts in ``tower`` unless the settings name others."""
    if not isinstance(model, OpenClipModel):
        return HF_CLIP_TARGETS
    kind = model.spec.vision.kind if tower == "image" else model.spec.text.kind
    return {TIMM: TIMM_TARGETS, BERT: BERT_TARGETS}.get(kind, NATIVE_TARGETS)


def lora_target_pattern(model: nn.Module, towers: list[str], names: list[str]) -> str:
    """A regular expression (peft matches it against full module names) selecting the named
    layers inside the transformer blocks of ``towers``; family defaults when ``names`` is
    empty. Heads, patch embeddings and projections are never adapted."""
    unknown = [tower for tower in towers if tower not in TOWERS]
    if unknown or not towers:
        raise DataError("The LoRA towers must be 'image', 'text' or both.", f"{towers}")
    parts = []
    for tower in towers:
        prefix, _ = _blocks(model, tower)
        targets = names or default_lora_targets(model, tower)
        alternatives = "|".join(re.escape(name) for name in targets)
        parts.append(rf"{re.escape(prefix)}\.\d+\.(?:.*\.)?(?:{alternatives})")
    return "^(?:" + "|".join(parts) + ")$"


def head_modules(model: nn.Module) -> list[nn.Module]:
    """Final norms and projections of both towers (trainable with frozen layers)."""
    if isinstance(model, OpenClipModel):
        visual, text = model.visual, model.text
        image_head = (
            [visual.trunk.norm, visual.head] if model.spec.vision.kind == TIMM else [visual.ln_post]
        )
        text_head = [text.proj] if model.spec.text.kind == BERT else [text.ln_final]
        return image_head + text_head
    return [
        model.visual_projection,
        model.text_projection,
        model.vision_model.post_layernorm,
        model.text_model.final_layer_norm,
    ]


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Projection matrices stored as bare parameters (open_clip's native towers)."""
    if not isinstance(model, OpenClipModel):
        return []
    found = []
    if model.spec.vision.kind != TIMM:
        found.append(model.visual.proj)
    if model.spec.text.kind != BERT:
        found.append(model.text.text_projection)
    return found


def last_blocks(model: nn.Module, layers: int) -> list[nn.Module]:
    """The last ``layers`` transformer blocks of each tower."""
    if layers <= 0:
        return []
    return [block for tower in TOWERS for block in list(_blocks(model, tower)[1])[-layers:]]
