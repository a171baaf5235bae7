"""Checks of a model folder made *before* a model is built: the preprocessing settings, the
architecture sizes in ``config.json`` and the weight shapes those sizes imply.

Building first and comparing afterwards lets a 12 KB ``config.json`` allocate a model of many
gigabytes before the weights are found not to fit; the shapes of safetensors weights are read
from the file headers, so nothing large is allocated here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain.bundle import CLIP_MEAN, CLIP_STD

PREPROCESSOR_FILE = "preprocessor_config.json"
_TOWER_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")
_LAYER_KEY = re.compile(r"^(vision_model|text_model)\.encoder\.layers\.(\d+)\.")


def _channel_values(config: Mapping, key: str, default: tuple, name: str) -> tuple:
    value = config.get(key, default)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value] * 3
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ModelLoadError(
            f"The preprocessing settings of {name} are wrong: '{key}' must list three numbers "
            "(red, green, blue).",
            f"{key} = {value!r}",
        )
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise ModelLoadError(
            f"The preprocessing settings of {name} are wrong: '{key}' must hold numbers.",
            f"{key} = {value!r}",
        )
    if not all(math.isfinite(v) for v in value):
        raise ModelLoadError(
            f"The preprocessing settings of {name} are wrong: '{key}' holds invalid numbers.",
            f"{key} = {value!r}",
        )
    return tuple(float(v) for v in value)


def read_preprocessing(folder: Path) -> tuple[tuple, tuple]:
    """(image_mean, image_std) of a model folder (CLIP's when it has no preprocessing file).

    Refuses a damaged file, values that are not three finite numbers and a standard deviation
    that is not above zero (it divides every pixel, so zero makes every output NaN)."""
    path = folder / PREPROCESSOR_FILE
    if not path.is_file():
        return CLIP_MEAN, CLIP_STD
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"The preprocessing settings file of {folder.name} is damaged.", f"{path}: {exc!r}"
        ) from exc
    if not isinstance(config, dict):
        raise ModelLoadError(
            f"The preprocessing settings file of {folder.name} is damaged.", f"{path}: not a dict"
        )
    return normalisation(config, folder.name)


def normalisation(
    config: Mapping, name: str, keys: tuple[str, str] = ("image_mean", "image_std")
) -> tuple[tuple, tuple]:
    """(mean, std) under ``keys`` of a settings dict (CLIP's where absent), checked: three
    finite numbers each, std above zero."""
    mean_key, std_key = keys
    mean = _channel_values(config, mean_key, CLIP_MEAN, name)
    std = _channel_values(config, std_key, CLIP_STD, name)
    if min(std) <= 0:
        raise ModelLoadError(
            f"The preprocessing settings of {name} are wrong: '{std_key}' must be "
            "greater than zero for every colour.",
            f"{std_key} = {list(std)}",
        )
    return mean, std


def _size(tower, key: str, tower_name: str, folder: str) -> int:
    value = getattr(tower, key, None)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelLoadError(
            f"The model settings in {folder} are wrong: the {tower_name} size '{key}' must be a "
            "whole number above zero.",
            f"{tower_name}.{key} = {value!r}",
        )
    return value


def expected_shapes(config, folder: str = "the model") -> tuple[dict[str, tuple], dict[str, int]]:
    """The weight shapes and layer counts a ``CLIPConfig`` implies (key → shape); refuses sizes
    that cannot make a model (zero, negative, heads not dividing the width, no patches)."""
    vision, text = config.vision_config, config.text_config
    v = {k: _size(vision, k, "image encoder", folder) for k in (*_TOWER_KEYS, "image_size")}
    v["patch_size"] = _size(vision, "patch_size", "image encoder", folder)
    t = {k: _size(text, k, "text encoder", folder) for k in _TOWER_KEYS}
    t["vocab_size"] = _size(text, "vocab_size", "text encoder", folder)
    t["max_position_embeddings"] = _size(text, "max_position_embeddings", "text encoder", folder)
    channels = _size(vision, "num_channels", "image encoder", folder)
    if channels != 3:
        raise ModelLoadError(
            f"The model in {folder} expects images with {channels} colour channels; MedGrad "
            "gives it colour (red, green, blue) images.",
            f"num_channels = {channels}",
        )
    projection = int(getattr(config, "projection_dim", 0) or 0)
    if projection <= 0:
        raise ModelLoadError(
            f"The model settings in {folder} are wrong: 'projection_dim' must be above zero.",
            f"projection_dim = {projection!r}",
        )
    for name, sizes in (("image encoder", v), ("text encoder", t)):
        if sizes["hidden_size"] % sizes["num_attention_heads"]:
            raise ModelLoadError(
                f"The model settings in {folder} are wrong: the {name} width is not divisible "
                "by its number of attention heads.",
                f"{sizes['hidden_size']} / {sizes['num_attention_heads']}",
            )
    grid = v["image_size"] // v["patch_size"]
    if grid < 1:
        raise ModelLoadError(
            f"The model settings in {folder} are wrong: the image is smaller than one patch, "
            "so the image encoder has no positions.",
            f"image_size {v['image_size']}, patch_size {v['patch_size']}",
        )
    vh, th = v["hidden_size"], t["hidden_size"]
    shapes = {
        "vision_model.embeddings.patch_embedding.weight": (
            vh,
            channels,
            v["patch_size"],
            v["patch_size"],
        ),
        "vision_model.embeddings.position_embedding.weight": (grid * grid + 1, vh),
        "vision_model.encoder.layers.0.mlp.fc1.weight": (v["intermediate_size"], vh),
        "text_model.embeddings.token_embedding.weight": (t["vocab_size"], th),
        "text_model.embeddings.position_embedding.weight": (t["max_position_embeddings"], th),
        "text_model.encoder.layers.0.mlp.fc1.weight": (t["intermediate_size"], th),
        "visual_projection.weight": (projection, vh),
        "text_projection.weight": (projection, th),
    }
    layers = {"vision_model": v["num_hidden_layers"], "text_model": t["num_hidden_layers"]}
    return shapes, layers


def safetensors_shapes(paths: list[Path]) -> dict[str, tuple]:
    """Key → shape of every tensor in safetensors files, read from the headers only."""
    from safetensors import safe_open

    shapes: dict[str, tuple] = {}
    for path in paths:
        with safe_open(str(path), framework="pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
                shapes[key] = tuple(handle.get_slice(key).get_shape())
    return shapes


def check_weight_shapes(config, shapes: Mapping[str, tuple], folder: str) -> None:
    """Raise ``ModelLoadError`` unless the weights have the shapes and layer counts that the
    settings describe (so no model is built from settings its weights do not fit)."""
    wanted, layer_counts = expected_shapes(config, folder)
    problems = [
        f"{key}: settings {shape}, weights {shapes.get(key, 'missing')}"
        for key, shape in wanted.items()
        if tuple(shapes.get(key, ())) != shape
    ]
    found: dict[str, set[int]] = {"vision_model": set(), "text_model": set()}
    for key in shapes:
        match = _LAYER_KEY.match(key)
        if match:
            found[match.group(1)].add(int(match.group(2)))
    for tower, count in layer_counts.items():
        if found[tower] != set(range(count)):
            problems.append(f"{tower}: settings {count} layers, weights {len(found[tower])}")
    if problems:
        raise ModelLoadError(
            f"The weights in {folder} do not match its CLIP settings (config.json); the folder "
            "may mix files of two models.",
            "; ".join(problems[:6]),
        )
