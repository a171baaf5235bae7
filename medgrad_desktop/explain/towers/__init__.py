"""Model families as towers: the only thing attribution methods and variants see of a model.

A **vision tower** (``VisionTower``) exposes, for images of any patch grid:

- ``patch_size`` (p), ``base_grid`` (g0: the model's own square grid, S / p), ``prefix_tokens``
  (tokens before the patches, 1 for CLIP's CLS), ``width`` (C) and ``num_heads``;
- ``positional_embedding(gh, gw)`` → (prefix + gh·gw, C): the model's embeddings, the patch part
  resampled bicubically (``align_corners=False``) from the (g0, g0) grid when (gh, gw) differs;
- ``trunk(pixels)`` (N, 3, gh·p, gw·p) → x (N, T, C): the tokens entering the last block (patch
  embedding, positional embedding, pre-norm and every block but the last); run without grad,
  under autocast if the caller asks;
- the last block as pure functions of token tensors (..., T, C), so ``torch.func`` can take
  vector–Jacobian products through it: ``qkv(x)`` → q, k, v (heads concatenated) of the block's
  first norm; ``attention(q, k, v, heads)`` → o before the out projection, with ``heads`` heads
  of width C / heads (scale (C / heads)^-0.5; ``heads=1`` is the Grad-ECLIP authors' one-head
  recomputation); ``out_proj(t)`` (with its bias); ``block_output(x, o)`` → x + out_proj(o), then
  + MLP(norm2(·)); ``embed(hidden_prefix)`` (..., prefix, C) → (..., D): pooling, final norm and
  projection, L2-normalised;
- ``pooled_prefix``: True when ``embed`` reads only the prefix tokens (then the image embedding
  depends on the attention output only through o[:prefix]).

A **text tower** (``TextTower``) has ``tokenize(texts)`` → model inputs and ``encode(tokens)``
→ (K, D) L2-normalised embeddings.

``vision_tower_for(model)`` / ``text_tower_for(model, tokenizer)`` pick the adapter of a loaded
model (``hf_clip`` for the Hugging Face CLIP layout, ``open_clip`` for open_clip folders); a
new family adds its adapter module and one branch here.
"""

from __future__ import annotations

from medgrad_desktop.explain.towers.base import TextTower, VisionTower, interpolate_positions

__all__ = [
    "TextTower",
    "VisionTower",
    "interpolate_positions",
    "text_tower_for",
    "vision_tower_for",
]


def vision_tower_for(model) -> VisionTower:
    """The vision tower adapter for a loaded model."""
    if hasattr(model, "vision_model") and hasattr(model, "visual_projection"):
        from medgrad_desktop.explain.towers.hf_clip import HFClipVisionTower

        return HFClipVisionTower(model)
    if hasattr(model, "visual") and hasattr(model, "spec"):
        from medgrad_desktop.explain.towers.open_clip import OpenClipVisionTower

        return OpenClipVisionTower(model)
    raise TypeError(f"No vision tower adapter for {type(model).__name__}.")


def text_tower_for(model, tokenizer) -> TextTower:
    """The text tower adapter for a loaded model and its tokenizer."""
    if hasattr(model, "text_model") and hasattr(model, "text_projection"):
        from medgrad_desktop.explain.towers.hf_clip import HFClipTextTower

        return HFClipTextTower(model, tokenizer)
    if hasattr(model, "text") and hasattr(model, "spec"):
        from medgrad_desktop.explain.towers.open_clip import OpenClipTextTower

        return OpenClipTextTower(model, tokenizer)
    raise TypeError(f"No text tower adapter for {type(model).__name__}.")
