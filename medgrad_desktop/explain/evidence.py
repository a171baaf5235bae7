"""``Evidence``: the model-dependent, cacheable part of an explanation (torch-free, so caches,
stores and the viewer can hold it without importing torch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Evidence:
    """The model-dependent part of an explanation (cacheable; independent of the entropy radius).

    ``patch_maps[m]`` is (K, gh, gw) float32 ≥ 0 on the patch grid; for ``medgrad`` it is the
    unweighted evidence ReLU(Σ_c w_c v_ic) that the entropy weight multiplies at pixel level.
    """

    similarity: np.ndarray
    probability: np.ndarray
    patch_maps: dict[str, np.ndarray]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.patch_maps.values()) + self.similarity.nbytes * 2
