"""OpenAI-format CLIP checkpoints: read safely, infer the architecture, convert to ``CLIPModel``.

An OpenAI-format checkpoint is ``torch.save(model.state_dict())`` of ``clip.load("ViT-B/16")``
(mixed fp16/fp32; keys ``visual.conv1.weight``, ``visual.transformer.resblocks.N.attn.
in_proj_weight``, ``token_embedding.weight``, …). The architecture is inferred from the tensor
shapes exactly as OpenAI's ``build_model`` does; only the Vision Transformer image encoder is
supported. Files are never unpickled beyond plain tensors (``weights_only=True``).
"""

from __future__ import annotations

import logging
import pickle
import re
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from medgrad_desktop.errors import ModelLoadError

if TYPE_CHECKING:  # transformers is imported where a model is built, not to read a file
    from transformers import CLIPConfig, CLIPModel

logger = logging.getLogger(__name__)

# Keys every OpenAI ViT CLIP state dict has (text tower + ViT image tower).
TEXT_KEYS = ("token_embedding.weight", "positional_embedding", "text_projection", "ln_final.weight")
VIT_KEYS = (
    "visual.conv1.weight",
    "visual.class_embedding",
    "visual.positional_embedding",
    "visual.proj",
)
# Non-tensor entries OpenAI's TorchScript models carry; build_model drops them too.
OPENAI_METADATA_KEYS = ("input_resolution", "context_length", "vocab_size")
WRAPPER_KEYS = ("state_dict", "model")
KEY_PREFIXES = ("module.", "_orig_mod.")  # DataParallel / DDP and torch.compile wrappers
_UNREADABLE_ERRORS = (
    pickle.UnpicklingError,
    RuntimeError,
    EOFError,
    ValueError,
    OSError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    struct.error,
    zipfile.BadZipFile,
)
_NOT_CLIP = "This file does not contain a CLIP model in OpenAI format"

_TOP_LEVEL_KEYS = {
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
    "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
    "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
    "positional_embedding": "text_model.embeddings.position_embedding.weight",
    "ln_final.weight": "text_model.final_layer_norm.weight",
    "ln_final.bias": "text_model.final_layer_norm.bias",
    "logit_scale": "logit_scale",
}
_TRANSPOSED_KEYS = {
    "visual.proj": "visual_projection.weight",
    "text_projection": "text_projection.weight",
}
_BLOCK_MODULES = {
    "ln_1": "layer_norm1",
    "ln_2": "layer_norm2",
    "mlp.c_fc": "mlp.fc1",
    "mlp.c_proj": "mlp.fc2",
    "attn.out_proj": "self_attn.out_proj",
}
_BLOCK_KEY = re.compile(r"^(visual\.transformer|transformer)\.resblocks\.(\d+)\.(.+)$")
_TOWERS = {"visual.transformer": "vision_model", "transformer": "text_model"}


def read_checkpoint_file(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in a ``.pt``/``.pth``/``.bin`` or ``.safetensors`` file.

    Nesting under ``state_dict``/``model`` is unwrapped and ``module.`` prefixes are
    stripped. Raises ``ModelLoadError`` for a missing, unsafe (code-carrying), truncated or
    corrupt file, and for one that does not hold a dict of tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"The model file {path.name} could not be found.", details=str(path))
    payload = (
        _load_safetensors(path) if path.suffix.lower() == ".safetensors" else _load_torch(path)
    )
    return _tensor_state_dict(_unwrap(payload), path)


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, *_UNREADABLE_ERRORS) as exc:
        raise _damaged(path, exc) from exc


def _is_torchscript_archive(path: Path) -> bool:
    """TorchScript archives (e.g. OpenAI's original downloads) hold ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("/constants.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False  # torch.load reports the damage


_LEGACY_TORCH_MAGIC = bytes.fromhex("8a0a6cfc9c46f9206aa8")
"""Pickled ``0x1950a86a20f9469cfc6c``: the magic number of torch's pre-1.6 (non-zip) format."""


def _looks_like_torch_file(path: Path) -> bool:
    """Whether the file starts as ``torch.save`` writes it (a zip archive, or the legacy
    pickle that starts with the torch magic number)."""
    with path.open("rb") as handle:
        head = handle.read(2 + len(_LEGACY_TORCH_MAGIC))
    zip_start = head[:4] == b"PK\x03\x04"  # a truncated archive still starts so (damaged)
    return zip_start or (head[:1] == b"\x80" and head[2:] == _LEGACY_TORCH_MAGIC)


def _load_torch(path: Path) -> object:
    try:
        is_torch_file = _looks_like_torch_file(path)
    except OSError as exc:
        raise _damaged(path, exc) from exc
    if not is_torch_file:
        raise ModelLoadError(
            f"The file {path.name} is not a PyTorch checkpoint (nor a model file of another "
            "known kind); it may be damaged or have the wrong name.",
            details=str(path),
        )
    if _is_torchscript_archive(path):
        raise ModelLoadError(
            f"The model file {path.name} is a TorchScript archive, which is not opened for "
            "safety; please save the model's state_dict() with torch.save and open that file.",
            details=str(path),
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except _UNREADABLE_ERRORS as exc:
        text = str(exc)
        if "Weights only load failed" in text:
            raise ModelLoadError(
                f"The model file {path.name} contains program code besides the weights, so it "
                "was not opened, for safety.",
                details=text,
            ) from exc
        raise _damaged(path, exc) from exc


def _damaged(path: Path, exc: Exception) -> ModelLoadError:
    return ModelLoadError(
        f"The model file {path.name} is damaged or incomplete and cannot be read.",
        details=f"{path}: {type(exc).__name__}: {exc}",
    )


def _unwrap(payload: object) -> object:
    """Descend into ``{"state_dict": ...}`` / ``{"model": ...}`` wrappers (training checkpoints)."""
    for _ in range(4):
        if not isinstance(payload, Mapping):
            return payload
        inner = next((payload[key] for key in WRAPPER_KEYS if key in payload), None)
        if not isinstance(inner, Mapping):
            return payload
        payload = inner
    return payload


def _strip_prefixes(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in KEY_PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix) :], True
    return key


def _tensor_state_dict(payload: object, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(payload, Mapping) or not payload:
        raise ModelLoadError(
            f"The file {path.name} does not contain model weights.",
            details=f"{path}: top-level object is {type(payload).__name__}",
        )
    state_dict: dict[str, torch.Tensor] = {}
    not_tensors = []
    for key, value in payload.items():
        name = _strip_prefixes(str(key))
        if name in OPENAI_METADATA_KEYS:
            continue
        if isinstance(value, torch.Tensor):
            state_dict[name] = value
        else:
            not_tensors.append(f"{name} ({type(value).__name__})")
    if not_tensors or not state_dict:
        raise ModelLoadError(
            f"The file {path.name} does not contain model weights.",
            details=f"{path}: entries that are not tensors: {', '.join(not_tensors[:20])}",
        )
    return state_dict


def is_openai_clip_state_dict(state_dict: Mapping[str, object]) -> bool:
    """True for an OpenAI-format CLIP state dict (ViT or ResNet image encoder).

    ResNet models are recognised here so the loader can explain that they are unsupported
    (``infer_openai_clip_config`` raises for them).
    """
    return all(key in state_dict for key in TEXT_KEYS) and "visual.conv1.weight" in state_dict


def _found_keys(state_dict: Mapping[str, object], count: int = 4) -> str:
    keys = list(state_dict)
    listed = ", ".join(f"'{key}'" for key in keys[:count])
    return listed + (", …" if len(keys) > count else "") if keys else "no weights"


def _require_vit_clip(state_dict: Mapping[str, torch.Tensor]) -> None:
    if (
        "visual.layer1.0.conv1.weight" in state_dict
        or "visual.attnpool.c_proj.weight" in state_dict
    ):
        raise ModelLoadError(
            "This is a CLIP model with a ResNet image encoder, which MedGrad Desktop does not "
            "support; please use a Vision Transformer (ViT) CLIP model.",
            details="OpenAI ModifiedResNet visual encoder (visual.layer1…, visual.attnpool…)",
        )
    missing = [key for key in (*VIT_KEYS, *TEXT_KEYS) if key not in state_dict]
    if missing:
        raise ModelLoadError(
            f"{_NOT_CLIP}: expected weights such as 'visual.conv1.weight' and "
            f"'token_embedding.weight' but found {_found_keys(state_dict)}.",
            details=f"missing: {missing}; keys: {list(state_dict)[:50]}",
        )


def _count_blocks(state_dict: Mapping[str, torch.Tensor], tower: str) -> int:
    """Number of residual attention blocks, counted as OpenAI's build_model does."""
    prefix = f"{tower}.resblocks."
    return len({key[len(prefix) :].split(".")[0] for key in state_dict if key.startswith(prefix)})


def _heads(width: int, tower: str) -> int:
    heads = width // 64
    if heads < 1:
        raise ModelLoadError(
            f"{_NOT_CLIP}: the {tower} width {width} is smaller than one attention head (64).",
            details=f"{tower} width {width}",
        )
    return heads


def infer_openai_clip_config(state_dict: Mapping[str, torch.Tensor]) -> CLIPConfig:
    """The ``CLIPConfig`` matching an OpenAI ViT CLIP state dict (shapes only; meta tensors work).

    Vision width/patch from ``visual.conv1``, layers from the residual block count, image
    size from the positional embedding grid, heads = width // 64, QuickGELU, eps 1e-5. The
    text config's start/end/pad ids are those of the OpenAI tokenizer layout (end token =
    last id), so Hugging Face pools the end-of-text token as OpenAI does.
    """
    _require_vit_clip(state_dict)
    conv1 = state_dict["visual.conv1.weight"].shape
    positions = state_dict["visual.positional_embedding"].shape[0]
    grid = round((positions - 1) ** 0.5)
    if len(conv1) != 4 or conv1[1] != 3 or conv1[2] != conv1[3] or grid * grid + 1 != positions:
        raise ModelLoadError(
            f"{_NOT_CLIP}: its image encoder has unexpected shapes.",
            details=f"visual.conv1.weight {tuple(conv1)}; {positions} visual positions",
        )
    vision_width, patch_size = conv1[0], conv1[-1]
    text_width = state_dict["ln_final.weight"].shape[0]
    vocab_size = state_dict["token_embedding.weight"].shape[0]
    embed_dim = state_dict["text_projection"].shape[1]
    if state_dict["visual.proj"].shape != (vision_width, embed_dim):
        raise ModelLoadError(
            f"{_NOT_CLIP}: its image and text embeddings have different sizes.",
            details=f"visual.proj {tuple(state_dict['visual.proj'].shape)}, embed {embed_dim}",
        )
    common = {"hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": embed_dim}
    vision_mlp = state_dict.get("visual.transformer.resblocks.0.mlp.c_fc.weight")
    text_mlp = state_dict.get("transformer.resblocks.0.mlp.c_fc.weight")
    vision_config = {
        **common,
        "hidden_size": vision_width,
        "intermediate_size": vision_mlp.shape[0] if vision_mlp is not None else 4 * vision_width,
        "num_hidden_layers": _count_blocks(state_dict, "visual.transformer"),
        "num_attention_heads": _heads(vision_width, "image encoder"),
        "patch_size": patch_size,
        "image_size": patch_size * grid,
        "num_channels": 3,
    }
    text_config = {
        **common,
        "hidden_size": text_width,
        "intermediate_size": text_mlp.shape[0] if text_mlp is not None else 4 * text_width,
        "num_hidden_layers": _count_blocks(state_dict, "transformer"),
        "num_attention_heads": _heads(text_width, "text encoder"),
        "max_position_embeddings": state_dict["positional_embedding"].shape[0],
        "vocab_size": vocab_size,
        "bos_token_id": vocab_size - 2,  # <|startoftext|>
        "eos_token_id": vocab_size - 1,  # <|endoftext|>
        "pad_token_id": vocab_size - 1,
    }
    from transformers import CLIPConfig

    return CLIPConfig(
        text_config=text_config, vision_config=vision_config, projection_dim=embed_dim
    )


def _hf_entries(key: str, tensor: torch.Tensor) -> dict[str, torch.Tensor] | None:
    """The Hugging Face key(s) and tensor(s) for one OpenAI entry; None if unknown."""
    if key in _TOP_LEVEL_KEYS:
        return {_TOP_LEVEL_KEYS[key]: tensor}
    if key in _TRANSPOSED_KEYS:
        return {_TRANSPOSED_KEYS[key]: tensor.t().contiguous()}
    match = _BLOCK_KEY.match(key)
    if match is None:
        return None
    tower, index, rest = match.groups()
    layer = f"{_TOWERS[tower]}.encoder.layers.{index}."
    if rest in ("attn.in_proj_weight", "attn.in_proj_bias"):
        kind = rest.rsplit("_", 1)[1]
        query, key_, value = tensor.chunk(3, dim=0)
        return {  # clones: each weight owns its memory (safetensors refuses shared storage)
            f"{layer}self_attn.q_proj.{kind}": query.clone(),
            f"{layer}self_attn.k_proj.{kind}": key_.clone(),
            f"{layer}self_attn.v_proj.{kind}": value.clone(),
        }
    module, _, parameter = rest.rpartition(".")
    if module not in _BLOCK_MODULES:
        return None
    return {f"{layer}{_BLOCK_MODULES[module]}.{parameter}": tensor}


def _uninitialised_clip_model(config: CLIPConfig) -> CLIPModel:
    """A ``CLIPModel`` on the CPU without the (slow) random init: the strict load assigns it.

    Built on the meta device; the only non-saved buffers, ``position_ids``, are filled here.
    Falls back to the ordinary constructor if a transformers version adds other buffers.
    """
    from transformers import CLIPModel

    with torch.device("meta"):
        model = CLIPModel(config)
    saved = set(model.state_dict())
    unsaved = {name: buffer for name, buffer in model.named_buffers() if name not in saved}
    if not all(name.endswith("position_ids") for name in unsaved):
        return CLIPModel(config)
    model.to_empty(device="cpu")
    for name in unsaved:
        buffer = model.get_buffer(name)
        buffer.copy_(torch.arange(buffer.shape[-1]).expand_as(buffer))
    return model


def convert_openai_state_dict(state_dict: Mapping[str, torch.Tensor]) -> CLIPModel:
    """A float32 ``CLIPModel`` in eval mode holding the weights of an OpenAI ViT CLIP state dict.

    Loading is strict: every OpenAI entry must map to a ``CLIPModel`` weight of the same
    shape, and every ``CLIPModel`` weight must be filled. Float32 input tensors are used as
    they are (not copied), so the model may share memory with ``state_dict``.
    """
    state_dict = {k: v for k, v in state_dict.items() if k not in OPENAI_METADATA_KEYS}
    config = infer_openai_clip_config(state_dict)
    converted: dict[str, torch.Tensor] = {}
    unknown = []
    for key, tensor in state_dict.items():
        entries = _hf_entries(key, tensor.to(torch.float32))
        if entries is None:
            unknown.append(key)
        else:
            converted.update(entries)
    model = _uninitialised_clip_model(config)
    try:
        result = model.load_state_dict(converted, strict=False, assign=True)
    except RuntimeError as exc:
        raise ModelLoadError(
            f"{_NOT_CLIP}: some of its weights have unexpected shapes.", details=str(exc)
        ) from exc
    problems = unknown + list(result.unexpected_keys) + list(result.missing_keys)
    if problems:
        raise ModelLoadError(
            f"{_NOT_CLIP}: some weights are missing or unexpected, such as "
            f"{', '.join(repr(key) for key in problems[:3])}.",
            details=f"unknown: {unknown}; missing: {result.missing_keys}; "
            f"unexpected: {result.unexpected_keys}",
        )
    logger.info(
        "Converted OpenAI CLIP: vision %d×%d layers, patch %d, image %d; text %d×%d; embed %d",
        config.vision_config.hidden_size,
        config.vision_config.num_hidden_layers,
        config.vision_config.patch_size,
        config.vision_config.image_size,
        config.text_config.hidden_size,
        config.text_config.num_hidden_layers,
        config.projection_dim,
    )
    return model.float().eval()
