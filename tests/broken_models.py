"""Copies of a tiny model folder damaged in the ways the hardening tests need (real files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def copy_model(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def edit_json(folder: Path, name: str, **changes) -> Path:
    """Change top-level keys (``vision_config__hidden_size`` edits a nested one)."""
    path = folder / name
    data = json.loads(path.read_text())
    for key, value in changes.items():
        parts = key.split("__")
        node = data
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    path.write_text(json.dumps(data))
    return folder


def edit_weights(folder: Path, **replacements: torch.Tensor) -> Path:
    """Replace tensors (``__`` stands for ``.`` in the key) in the folder's safetensors file."""
    (path,) = sorted(folder.glob("model*.safetensors"))
    state = load_file(str(path))
    for key, tensor in replacements.items():
        state[key.replace("__", ".")] = tensor
    save_file(state, str(path), metadata={"format": "pt"})
    return folder


def nan_model(source: Path, target: Path) -> Path:
    """A model whose image projection is NaN, so every image embedding is NaN."""
    folder = copy_model(source, target)
    (path,) = sorted(folder.glob("model*.safetensors"))
    weight = load_file(str(path))["visual_projection.weight"]
    return edit_weights(folder, visual_projection__weight=torch.full_like(weight, float("nan")))
