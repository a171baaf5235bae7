"""Turn raw patch-grid evidence into display maps at the image's resolution."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def upsample(patch_maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of (K, gh, gw) patch maps to (K, H, W) float32."""
    tensor = torch.from_numpy(np.ascontiguousarray(patch_maps, dtype=np.float32))[:, None]
    up = F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=False)
    return up[:, 0].numpy()


def minmax(maps: np.ndarray) -> np.ndarray:
    """Min–max normalise each map of a (K, H, W) stack to [0, 1]; a constant map becomes 0."""
    maps = maps.astype(np.float32, copy=False)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (maps - low) / safe, 0.0).astype(np.float32)


def display_maps(patch_maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Grad-CAM / Grad-ECLIP display maps: bilinear upsample, then min–max to [0, 1]."""
    return minmax(upsample(patch_maps, height, width))


def medgrad_display_maps(patch_maps: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """MedGrad-ECLIP display maps: upsampled evidence × entropy weight (H, W), min–max to [0, 1]."""
    height, width = weight.shape
    return minmax(upsample(patch_maps, height, width) * weight[None])


def has_positive_evidence(display_map: np.ndarray) -> bool:
    """False when a map is all zero (the UI then says "no positive evidence")."""
    return bool(np.any(display_map > 0))
