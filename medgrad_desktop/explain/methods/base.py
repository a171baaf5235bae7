"""The shared base of attribution methods: each declares what it needs from the last layer
and turns it into raw patch scores for N images × K prompts. Method modules import torch only
where they compute, so the registry (names, titles, needs) loads without torch."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import torch

    from medgrad_desktop.explain.variants import LastLayer

NEEDS = frozenset(
    {"cls_gradient", "token_gradient", "loosened_attention", "pixel_weight", "every_layer"}
)
"""What a method can ask for: ∂S/∂o_cls, ∂S/∂x, λ, a pixel-level weight (entropy), and the
image's pixels for a pass through every layer (``LastLayer.pixels``; LeGrad)."""


def relu_channel_sum(weights: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """ReLU(Σ_c w_nkc · t_npc) for all n, k, p: (N, K, C) × (N, P, C) → (N, K, P)."""
    import torch  # the registry itself stays importable without torch

    return torch.relu(torch.einsum("nkc,npc->nkp", weights, tokens))


class AttributionMethod:
    """One attribution method. Subclasses set ``name``, ``title``, ``needs`` and implement
    ``patch_scores``; ``pixel_weight`` names a weight applied at pixel level when maps are
    displayed ("entropy" for MedGrad-ECLIP), None for none. ``default`` methods are shown
    unless the caller chooses others; ``order`` sorts them (panels, exports, sessions)."""

    name: ClassVar[str]
    title: ClassVar[str]
    needs: ClassVar[frozenset[str]]
    pixel_weight: ClassVar[str | None] = None
    default: ClassVar[bool] = True
    order: ClassVar[int] = 100

    def unavailable_reason(self, bundle) -> str | None:
        """Why this method cannot explain the loaded model ``bundle`` (a plain sentence), or
        None when it can. Runs where the model lives (it may build the model's towers)."""
        return None

    def patch_scores(self, layer: LastLayer) -> torch.Tensor:
        """Raw scores ≥ 0 (N, K, P) on the patch grid (P = gh·gw, row-major)."""
        raise NotImplementedError
