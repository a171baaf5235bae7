"""Infer an open_clip model's architecture from its tensors' shapes.

Widths, depths, patch, grid, MLP width, vocabulary, positions and projection type come from
the shapes; heads are width // 64 unless the config states them. From ``open_clip_config.json``
only what shapes cannot tell is read (QuickGELU, context length, head width, pooling and
projection options); named models (``hf_model_name``, ``timm_model_name``) are hints only and
never fetched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain.model_checks import normalisation
from medgrad_desktop.explain.open_clip.spec import (
    BERT,
    CLIP_LAYOUT,
    CUSTOM_TEXT_LAYOUT,
    NATIVE,
    TIMM,
    OpenClipSpec,
    TextSpec,
    VisionSpec,
)

DEFAULT_CONTEXT = 77
CLS_POOLERS = ("cls_last_hidden_state_pooler",)

Shapes = Mapping[str, tuple[int, ...]]


def _unsupported(what: str, details: str) -> ModelLoadError:
    return ModelLoadError(
        f"This open_clip model has {what}, which MedGrad Desktop cannot open.", details
    )


def _shape(shapes: Shapes, key: str) -> tuple[int, ...]:
    if key not in shapes:
        raise ModelLoadError(
            f"The open_clip weights are incomplete: the tensor '{key}' is missing.", key
        )
    return shapes[key]


def _count(shapes: Shapes, prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    indices = {int(m.group(1)) for key in shapes if (m := pattern.match(key))}
    if not indices or indices != set(range(len(indices))):
        raise ModelLoadError(
            "The open_clip weights are incomplete: some transformer layers are missing.",
            f"{prefix}: layers {sorted(indices)}",
        )
    return len(indices)


def _grid(positions: int, key: str) -> int:
    grid = math.isqrt(positions - 1)
    if grid * grid + 1 != positions:
        raise _unsupported(
            "an image position table that is not one class token plus a square grid",
            f"{key}: {positions} positions",
        )
    return grid


def _heads(width: int, head_width: int | None, heads: int | None, tower: str) -> int:
    count = int(heads) if heads else width // int(head_width or 64)
    if count < 1 or width % count:
        raise _unsupported(f"a {tower} width of {width} that does not split into heads", tower)
    return count


def _vision(shapes: Shapes, cfg: Mapping, quick_gelu: bool) -> VisionSpec:
    if "visual.trunk.cls_token" in shapes:
        return _timm_vision(shapes, cfg)
    if "visual.conv1.weight" in shapes and "visual.class_embedding" in shapes:
        width, _, patch, _ = _shape(shapes, "visual.conv1.weight")
        positions = _shape(shapes, "visual.positional_embedding")[0]
        return VisionSpec(
            kind=NATIVE,
            width=width,
            layers=_count(shapes, "visual.transformer.resblocks."),
            heads=_heads(width, cfg.get("head_width"), None, "image"),
            patch_size=patch,
            grid=_grid(positions, "visual.positional_embedding"),
            mlp_width=_shape(shapes, "visual.transformer.resblocks.0.mlp.c_fc.weight")[0],
            embed_dim=_shape(shapes, "visual.proj")[1],
            activation="quick_gelu" if quick_gelu else "gelu",
        )
    visual = [key for key in shapes if key.startswith("visual.")][:3]
    raise _unsupported(
        "an image encoder that is not a Vision Transformer",
        f"image tensors such as {visual}",
    )


def _timm_vision(shapes: Shapes, cfg: Mapping) -> VisionSpec:
    pool, proj = cfg.get("timm_pool", "avg"), cfg.get("timm_proj", "linear")
    if pool not in ("", "token") or proj != "linear":
        raise _unsupported(
            f"a timm image tower with pooling '{pool}' and projection '{proj}' (only class-token "
            "pooling with a linear projection is supported)",
            f"timm_pool={pool!r}, timm_proj={proj!r}",
        )
    width = _shape(shapes, "visual.trunk.cls_token")[-1]
    patch = _shape(shapes, "visual.trunk.patch_embed.proj.weight")[-1]
    positions = _shape(shapes, "visual.trunk.pos_embed")[1]
    kwargs = cfg.get("timm_model_kwargs") or {}
    return VisionSpec(
        kind=TIMM,
        width=width,
        layers=_count(shapes, "visual.trunk.blocks."),
        heads=_heads(width, None, kwargs.get("num_heads"), "image"),
        patch_size=patch,
        grid=_grid(positions, "visual.trunk.pos_embed"),
        mlp_width=_shape(shapes, "visual.trunk.blocks.0.mlp.fc1.weight")[0],
        embed_dim=_shape(shapes, "visual.head.proj.weight")[0],
        eps=1e-6,
        head_bias="visual.head.proj.bias" in shapes,
    )


def _bert_text(shapes: Shapes, cfg: Mapping) -> TextSpec:
    pooler = cfg.get("hf_pooler_type", cfg.get("pooler_type", "cls_last_hidden_state_pooler"))
    if pooler not in CLS_POOLERS:
        raise _unsupported(
            f"a text tower pooled by '{pooler}' (only the CLS token is supported)",
            f"hf_pooler_type={pooler!r}",
        )
    root = "text.transformer."
    vocab, width = _shape(shapes, root + "embeddings.word_embeddings.weight")
    positions = _shape(shapes, root + "embeddings.position_embeddings.weight")[0]
    if "text.proj.weight" in shapes:
        projection, embed = "linear", shapes["text.proj.weight"][0]
    elif "text.proj.0.weight" in shapes:
        projection, embed = "mlp", _shape(shapes, "text.proj.2.weight")[0]
    else:
        projection, embed = "none", width
    overrides = cfg.get("hf_model_config") or {}
    return TextSpec(
        kind=BERT,
        width=width,
        layers=_count(shapes, root + "encoder.layer."),
        heads=_heads(width, None, overrides.get("num_attention_heads"), "text"),
        vocab_size=vocab,
        positions=positions,
        context_length=min(int(cfg.get("context_length", DEFAULT_CONTEXT)), positions),
        mlp_width=_shape(shapes, root + "encoder.layer.0.intermediate.dense.weight")[0],
        embed_dim=embed,
        eps=float(overrides.get("layer_norm_eps", 1e-12)),
        projection=projection,
        type_vocab_size=_shape(shapes, root + "embeddings.token_type_embeddings.weight")[0],
    )


def _native_text(shapes: Shapes, prefix: str, cfg: Mapping, quick_gelu: bool) -> TextSpec:
    vocab, width = _shape(shapes, prefix + "token_embedding.weight")
    positions = _shape(shapes, prefix + "positional_embedding")[0]
    projection = _shape(shapes, prefix + "text_projection")
    if len(projection) != 2:
        raise _unsupported("a text projection layer with a bias", prefix + "text_projection")
    return TextSpec(
        kind=NATIVE,
        width=width,
        layers=_count(shapes, prefix + "transformer.resblocks."),
        heads=_heads(width, None, cfg.get("heads"), "text"),
        vocab_size=vocab,
        positions=positions,
        context_length=min(int(cfg.get("context_length", positions)), positions),
        mlp_width=_shape(shapes, prefix + "transformer.resblocks.0.mlp.c_fc.weight")[0],
        embed_dim=projection[1],
        activation="quick_gelu" if quick_gelu else "gelu",
    )


def _text(shapes: Shapes, cfg: Mapping, quick_gelu: bool) -> tuple[TextSpec, str]:
    if "text.transformer.embeddings.word_embeddings.weight" in shapes:
        return _bert_text(shapes, cfg), CUSTOM_TEXT_LAYOUT
    if "token_embedding.weight" in shapes:
        return _native_text(shapes, "", cfg, quick_gelu), CLIP_LAYOUT
    if "text.token_embedding.weight" in shapes:
        return _native_text(shapes, "text.", cfg, quick_gelu), CUSTOM_TEXT_LAYOUT
    text = [key for key in shapes if not key.startswith("visual.")][:3]
    raise _unsupported(
        "a text encoder that is neither open_clip's transformer nor BERT",
        f"text tensors such as {text}",
    )


def infer_open_clip_spec(
    state: Mapping[str, torch.Tensor | tuple[int, ...]],
    model_cfg: Mapping | None = None,
    preprocess_cfg: Mapping | None = None,
) -> OpenClipSpec:
    """The ``OpenClipSpec`` of a checkpoint (tensors or bare shapes; meta tensors work)."""
    shapes = {k: tuple(v.shape) if hasattr(v, "shape") else tuple(v) for k, v in state.items()}
    model_cfg = model_cfg or {}
    preprocess_cfg = preprocess_cfg or {}
    quick_gelu = bool(model_cfg.get("quick_gelu", False))
    mean, std = normalisation(preprocess_cfg, "the open_clip model", ("mean", "std"))
    vision = _vision(shapes, model_cfg.get("vision_cfg") or {}, quick_gelu)
    text, layout = _text(shapes, model_cfg.get("text_cfg") or {}, quick_gelu)
    if vision.embed_dim != text.embed_dim:
        raise _unsupported(
            "image and text embeddings of different sizes",
            f"image {vision.embed_dim}, text {text.embed_dim}",
        )
    return OpenClipSpec(
        vision=vision,
        text=text,
        layout=layout,
        image_mean=mean,
        image_std=std,
    )
