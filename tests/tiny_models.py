"""Tiny random CLIP models for fast tests, saved as real Hugging Face folders."""

from __future__ import annotations

from pathlib import Path

import torch


def tiny_clip_config(
    image_size: int = 64,
    patch_size: int = 16,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    embed: int = 24,
    vocab_size: int = 49408,
):
    """A small ``CLIPConfig`` with the OpenAI tokenizer's special token ids."""
    from transformers import CLIPConfig

    return CLIPConfig(
        text_config={
            "vocab_size": vocab_size,
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "max_position_embeddings": 77,
            "hidden_act": "quick_gelu",
            "bos_token_id": vocab_size - 2,
            "eos_token_id": vocab_size - 1,
            "pad_token_id": vocab_size - 1,
        },
        vision_config={
            "image_size": image_size,
            "patch_size": patch_size,
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "hidden_act": "quick_gelu",
        },
        projection_dim=embed,
    )


def make_tiny_clip_folder(folder: Path, seed: int = 0, **config) -> Path:
    """Save a random tiny ``CLIPModel`` with the OpenAI tokenizer as a Hugging Face folder."""
    from transformers import CLIPModel

    from medgrad_desktop.explain.loading import save_model_folder
    from medgrad_desktop.explain.tokenizer import load_openai_tokenizer

    torch.manual_seed(seed)
    model = CLIPModel(tiny_clip_config(**config)).eval()
    with torch.no_grad():  # random weights with a non-trivial scale, so maps are not flat
        for name, parameter in model.named_parameters():
            if parameter.ndim >= 2 and "embedding" not in name:
                parameter.normal_(0.0, 0.2)
    return save_model_folder(model, load_openai_tokenizer(), folder)


def transformers_clip(folder):
    """transformers' own ``CLIPModel`` of a Hugging Face folder (fp32, eval): the independent
    model that references run on, beside the ``TorchClip`` the app opens."""
    from transformers import CLIPModel

    return CLIPModel.from_pretrained(str(folder)).float().eval()
