"""The model to train: a base CLIP (any ``load_model`` source) or a new one from scratch, with
the chosen method — full fine-tuning, frozen layers, or LoRA (peft, per-family default target
layers) — and saving in the base's own layout (LoRA merged) that ``load_model`` opens: a Hugging
Face CLIP folder, or for an open_clip base an open_clip folder with the same config, weight
format and tokenizer files. A base whose folder states a no-derivatives licence is refused."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medgrad_desktop.errors import DataError, ModelLoadError
from medgrad_desktop.explain.bundle import CLIP_MEAN, CLIP_STD
from medgrad_desktop.explain.clip_torch import TorchClip
from medgrad_desktop.explain.open_clip.folder import save_folder
from medgrad_desktop.explain.open_clip.model import OpenClipModel
from medgrad_desktop.explain.tokenizer import ClipTokenizer
from training.config import TrainConfig
from training.families import head_modules, head_parameters, last_blocks, lora_target_pattern

log = logging.getLogger(__name__)


@dataclass
class ModelSetup:
    """The trainable model (a ``CLIPModel``, or a peft wrapper of one for LoRA) and what is
    needed to preprocess, tokenize and save it."""

    model: Any
    tokenizer: Any
    image_size: int
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    method: str
    base_folder: Path | None = None  # an open_clip base: saves copy its layout

    def clip_model(self):
        """The underlying ``CLIPModel`` (LoRA layers still separate for LoRA)."""
        return self.model.get_base_model() if self.method == "lora" else self.model


def _load_tokenizer_folder(folder: str | None):
    from transformers import CLIPTokenizerFast

    from medgrad_desktop.explain.tokenizer import load_openai_tokenizer

    if folder is None:
        return load_openai_tokenizer()
    try:
        return CLIPTokenizerFast.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"The tokenizer folder {Path(folder).name} is missing or damaged.", repr(exc)
        ) from exc


def scratch_config(config: TrainConfig, tokenizer):
    """A ``CLIPConfig`` for a new model; text special-token ids follow ``tokenizer``."""
    from transformers import CLIPConfig

    for tower in ("vision", "text"):
        width, heads = getattr(config, f"{tower}_width"), getattr(config, f"{tower}_heads")
        if width % heads:
            raise DataError(f"The {tower} width must be divisible by the number of heads.")
    if config.image_size % config.patch_size:
        raise DataError("The image size must be a multiple of the patch size.")
    return CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": config.text_width,
            "intermediate_size": 4 * config.text_width,
            "num_hidden_layers": config.text_layers,
            "num_attention_heads": config.text_heads,
            "max_position_embeddings": config.context_length,
            "hidden_act": "quick_gelu",
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "image_size": config.image_size,
            "patch_size": config.patch_size,
            "hidden_size": config.vision_width,
            "intermediate_size": 4 * config.vision_width,
            "num_hidden_layers": config.vision_layers,
            "num_attention_heads": config.vision_heads,
            "hidden_act": "quick_gelu",
        },
        projection_dim=config.embed_dim,
        logit_scale_init_value=math.log(1.0 / config.init_temperature),
    )


def load_base(config: TrainConfig, weights_from: str | Path | None = None):
    """(model fp32 on CPU, tokenizer, image_size, mean, std, open_clip folder or None) of the
    base model: a ``CLIPModel``, or an ``OpenClipModel`` for an open_clip folder.

    ``weights_from``: a saved run folder (``last/``) whose weights replace the base's (resume).
    """
    from transformers import CLIPModel

    from medgrad_desktop.explain import load_model

    source = weights_from or (None if config.base == "scratch" else config.base)
    if source is None:
        tokenizer = _load_tokenizer_folder(config.tokenizer)
        torch.manual_seed(config.seed)
        model = CLIPModel(scratch_config(config, tokenizer))
        return model, tokenizer, config.image_size, CLIP_MEAN, CLIP_STD, None
    refuse_no_derivatives(source)
    bundle = load_model(source, device="cpu")
    open_clip_folder = Path(bundle.source) if isinstance(bundle.model, OpenClipModel) else None
    model, tokenizer = bundle.model, bundle.tokenizer
    if isinstance(model, TorchClip):  # the viewer's inference-only copy: train transformers'
        model = model.to_transformers()
    if isinstance(tokenizer, ClipTokenizer):  # saved with the model, so transformers' own
        tokenizer = tokenizer.to_transformers()
    return (
        model.float().train(),
        tokenizer,
        bundle.image_size,
        bundle.image_mean,
        bundle.image_std,
        open_clip_folder,
    )


def refuse_no_derivatives(source: str | Path) -> None:
    """``DataError`` when the base model's folder states a no-derivatives licence."""
    from medgrad_desktop.explain.open_clip.licence import no_derivatives_licence

    folder = Path(str(source)).expanduser()
    licence = no_derivatives_licence(folder) if folder.is_dir() else None
    if licence:
        raise DataError(
            f"The licence of the model {folder.name} does not allow changed versions of it "
            f'("{licence}"), so it cannot be fine-tuned. It can still be opened and explained.',
            f"{folder}: {licence}",
        )


def _freeze_all_but_last(model, layers: int) -> None:
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for module in head_modules(model) + last_blocks(model, layers):
        for parameter in module.parameters():
            parameter.requires_grad_(True)
    for parameter in head_parameters(model):
        parameter.requires_grad_(True)
    model.logit_scale.requires_grad_(True)


def _add_lora(model, config: TrainConfig):
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=lora_target_pattern(model, config.lora_towers, config.lora_targets),
        bias="none",
    )
    try:
        wrapped = get_peft_model(model, lora)
    except ValueError as exc:
        raise DataError(
            "The LoRA target layers were not found in the model; check lora_targets.", repr(exc)
        ) from exc
    wrapped.get_base_model().logit_scale.requires_grad_(True)
    return wrapped


def build_model(config: TrainConfig, weights_from: str | Path | None = None) -> ModelSetup:
    """The model to train, with the method of ``config`` applied."""
    model, tokenizer, size, mean, std, open_clip_folder = load_base(config, weights_from)
    if config.method == "frozen":
        _freeze_all_but_last(model, config.trainable_layers)
    elif config.method == "lora":
        model = _add_lora(model, config)
    model.train()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info(
        "Model ready: %s, %.2fM of %.2fM parameters trainable",
        config.method,
        trainable / 1e6,
        total / 1e6,
    )
    return ModelSetup(
        model, tokenizer, int(size), tuple(mean), tuple(std), config.method, open_clip_folder
    )


def plain_clip(setup: ModelSetup):
    """A standalone fp32 ``CLIPModel`` copy in eval mode (LoRA merged), for saving/evaluating."""
    if setup.method == "lora":
        return copy.deepcopy(setup.model).merge_and_unload().float().eval()
    return copy.deepcopy(setup.model).float().eval()


def save_checkpoint(setup: ModelSetup, folder: Path, save_dtype: str = "float32") -> Path:
    """Write ``folder`` in the base's layout (LoRA merged; fp16 if asked): an open_clip folder
    for an open_clip base, else a Hugging Face CLIP folder."""
    from medgrad_desktop.explain import save_model_folder

    model = plain_clip(setup).cpu()
    if setup.base_folder is not None:
        return save_folder(model, setup.base_folder, folder, half=save_dtype == "float16")
    if save_dtype == "float16":
        model = model.half()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("model*.safetensors*"):
        stale.unlink()  # a re-save with other sharding must not leave old shards behind
    return save_model_folder(model, setup.tokenizer, folder, setup.image_mean, setup.image_std)


def adapter_state(setup: ModelSetup) -> dict[str, torch.Tensor]:
    """The LoRA weights (and logit scale) needed to rebuild an unmerged LoRA model on resume."""
    if setup.method != "lora":
        return {}
    return {
        name: p.detach().cpu().clone()
        for name, p in setup.model.named_parameters()
        if p.requires_grad
    }
