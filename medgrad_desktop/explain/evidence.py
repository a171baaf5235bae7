"""``Evidence``: the model-dependent, cacheable part of an explanation (torch-free, so caches,
stores and the viewer can hold it without importing torch). ``batch_evidence`` computes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Evidence:
    """One image's evidence (cacheable; independent of the entropy radius).

    ``patch_maps[m]`` is (K, gh, gw) float32 ≥ 0 on the patch grid; for a method with a pixel
    weight (MedGrad-ECLIP) it is the unweighted evidence that the weight multiplies at pixel
    level. ``similarity``/``probability`` are the model's own, whatever the ``variant``;
    ``geometry`` is how the image became the model's input.
    """

    similarity: np.ndarray
    probability: np.ndarray
    patch_maps: dict[str, np.ndarray]
    variant: str = "model"
    geometry: str = "square"

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.patch_maps.values()) + self.similarity.nbytes * 2
