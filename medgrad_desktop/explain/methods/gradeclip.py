"""Grad-ECLIP (Zhao et al., ICML 2024)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medgrad_desktop.explain.methods.base import AttributionMethod, relu_channel_sum
from medgrad_desktop.explain.methods.registry import register

if TYPE_CHECKING:
    import torch

    from medgrad_desktop.explain.variants import LastLayer


@register
class GradECLIP(AttributionMethod):
    """map_i = ReLU(Σ_c w_c v_ic λ_i), w = ∂S/∂o_cls, λ the loosened CLS attention."""

    name = "gradeclip"
    title = "Grad-ECLIP"
    needs = frozenset({"cls_gradient", "loosened_attention"})
    order = 20

    def patch_scores(self, layer: LastLayer) -> torch.Tensor:
        values = layer.patch_values * layer.loosened_attention[:, :, None]
        return relu_channel_sum(layer.cls_gradient, values)
