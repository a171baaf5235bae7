"""LeGrad (Bousselham et al., ICCV 2025), an optional comparator (not shown by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medgrad_desktop.explain.methods.base import AttributionMethod
from medgrad_desktop.explain.methods.registry import register

if TYPE_CHECKING:
    import torch

    from medgrad_desktop.explain.variants import LastLayer


@register
class LeGrad(AttributionMethod):
    """Gradients of every layer's CLS similarity w.r.t. that layer's attention probabilities,
    ReLU, averaged over heads, query rows and layers (``explain.legrad``). It is defined on
    the model's own forward, so the variant does not change it."""

    name = "legrad"
    title = "LeGrad"
    needs = frozenset({"every_layer"})
    default = False
    order = 40

    def unavailable_reason(self, bundle) -> str | None:
        from medgrad_desktop.explain.legrad import legrad_refusal

        return legrad_refusal(bundle.vision_tower)

    def patch_scores(self, layer: LastLayer) -> torch.Tensor:
        from medgrad_desktop.explain.legrad import legrad_scores

        if layer.pixels is None:
            raise ValueError("LeGrad needs the model input (LastLayer.pixels).")
        return legrad_scores(layer.tower, layer.pixels, layer.texts)
