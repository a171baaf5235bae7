"""Sanity checks of the maps (Adebayo et al. 2018).

- Cascading randomisation from the top: the vision tower's weights are redrawn stage by stage,
  starting at the output (projection and final norm), then the encoder layers from the last to
  the first, then the embeddings; after each stage the maps are recomputed and compared with the
  trained model's maps by Spearman rank correlation and SSIM. A map that stays the same while
  the model it explains is destroyed does not explain the model. Each weight tensor is redrawn
  from a normal distribution with that tensor's own mean and standard deviation (seeded), so the
  network keeps its scale.
- Prompt specificity: maps for the true prompt against maps for an unrelated prompt on the same
  image; high similarity means the map ignores the text.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity

UNRELATED_PROMPT = "a photo of a bicycle on a street"


def map_agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Spearman rank correlation and SSIM (data range 1) of two maps in [0, 1]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        rho = float("nan")
    else:
        rho = float(spearmanr(a.ravel(), b.ravel()).statistic)
    window = min(7, *a.shape)
    window -= 1 - window % 2  # SSIM needs an odd window that fits the map
    ssim = float(structural_similarity(a, b, data_range=1.0, win_size=window))
    return {"spearman": rho, "ssim": ssim}


def randomisation_stages(model) -> list[tuple[str, list[torch.nn.Module]]]:
    """(name, modules) of the vision tower from the top: output, layers last→first, embeddings."""
    own = getattr(model, "randomisation_stages", None)  # open_clip models list their own
    if own is not None:
        return own()
    vision = model.vision_model
    stages = [("projection", [model.visual_projection, vision.post_layernorm])]
    layers = list(vision.encoder.layers)
    for index in range(len(layers) - 1, -1, -1):
        stages.append((f"layer {index + 1}", [layers[index]]))
    stages.append(("embeddings", [vision.embeddings, vision.pre_layrnorm]))
    return stages


@torch.no_grad()
def _redraw(modules: Sequence[torch.nn.Module], generator: torch.Generator) -> None:
    for module in modules:  # modules, or bare parameters (open_clip projections)
        members = [module] if isinstance(module, torch.nn.Parameter) else module.parameters()
        for parameter in members:
            values = parameter.detach().float()
            std = float(values.std()) if values.numel() > 1 else 0.0
            noise = torch.randn(values.shape, generator=generator) * std + float(values.mean())
            parameter.copy_(noise.to(parameter.dtype))


def cascading_randomisation(
    bundle,
    explain_maps: Callable[[object], dict[str, np.ndarray]],
    seed: int = 0,
) -> dict[str, list]:
    """``{"stages": [...], method: [{"spearman", "ssim"} per stage]}`` for the maps that
    ``explain_maps(bundle)`` returns ({method: (H, W) map}), on a deep copy of the model."""
    original = explain_maps(bundle)
    model = copy.deepcopy(bundle.model)
    randomised = bundle.with_model(model)
    generator = torch.Generator().manual_seed(seed)
    result: dict[str, list] = {"stages": []}
    for name, modules in randomisation_stages(model):
        _redraw(modules, generator)
        maps = explain_maps(randomised)
        result["stages"].append(name)
        for method, reference in original.items():
            result.setdefault(method, []).append(map_agreement(reference, maps[method]))
    return result
