"""Grad-CAM on the tokens entering the last block."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medgrad_desktop.explain.methods.base import AttributionMethod, relu_channel_sum
from medgrad_desktop.explain.methods.registry import register

if TYPE_CHECKING:
    import torch

    from medgrad_desktop.explain.variants import LastLayer


@register
class GradCAM(AttributionMethod):
    """map_i = ReLU(Σ_c w_c x_ic), w_c = mean of ∂S/∂x_c over the patch tokens ("model") or
    over all tokens, CLS included ("zhao2024", as the authors' ``grad_cam`` does)."""

    name = "gradcam"
    title = "Grad-CAM"
    needs = frozenset({"token_gradient"})
    order = 10

    def patch_scores(self, layer: LastLayer) -> torch.Tensor:
        first = 0 if layer.variant == "zhao2024" else layer.prefix
        weights = layer.token_gradient[:, :, first:].mean(dim=2)
        return relu_channel_sum(weights, layer.patch_tokens)
