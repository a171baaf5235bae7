"""MedGrad-ECLIP (Kamal & Oates): Grad-ECLIP evidence weighted by local image entropy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medgrad_desktop.explain.methods.base import AttributionMethod, relu_channel_sum
from medgrad_desktop.explain.methods.registry import register

if TYPE_CHECKING:
    import torch

    from medgrad_desktop.explain.variants import LastLayer


@register
class MedGradECLIP(AttributionMethod):
    """Patch part ReLU(Σ_c w_c v_ic), w = ∂S/∂o_cls; multiplied at pixel level by the local
    entropy weight w_e when displayed (``pixel_weight = "entropy"``)."""

    name = "medgrad"
    title = "MedGrad-ECLIP"
    needs = frozenset({"cls_gradient", "pixel_weight"})
    pixel_weight = "entropy"
    order = 30

    def patch_scores(self, layer: LastLayer) -> torch.Tensor:
        return relu_channel_sum(layer.cls_gradient, layer.patch_values)
