"""LeGrad (Bousselham et al., ICCV 2025) for Hugging Face CLIP vision towers.

For every encoder layer l, the layer's output tokens z^l are pooled (the CLS token, as in the
paper; ``pooling="mean"`` averages all tokens as the reference package ``legrad_torch`` does for
CLIP) and mapped to an image embedding with the model's own final norm and projection; s^l_k is
its cosine similarity with prompt k. The map is the gradient ∂s^l_k/∂A^l of that similarity with
respect to the layer's attention probabilities A^l (heads × tokens × tokens), passed through a
ReLU, averaged over heads and over the query rows, read at the patch columns, and averaged over
the layers (from ``start_layer``, default all; ``legrad_torch`` defaults to the last two).

Each layer's gradient flows through that layer only (the tokens entering it are constants), so
the K prompts' gradients come from one vector–Jacobian product per layer, vectorised over the K
text embeddings with ``torch.func.vmap``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import vjp, vmap

from medgrad_desktop.errors import ComputeError


def _heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    tokens, channels = t.shape
    return t.reshape(tokens, heads, channels // heads).transpose(0, 1)


def _attention_probabilities(layer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A (heads, T, T) and the values (heads, T, C/heads) of ``layer`` for tokens x (T, C)."""
    attention = layer.self_attn
    heads = int(attention.num_heads)
    normed = layer.layer_norm1(x)
    q = _heads(attention.q_proj(normed), heads)
    k = _heads(attention.k_proj(normed), heads)
    v = _heads(attention.v_proj(normed), heads)
    scale = q.shape[-1] ** -0.5
    return torch.softmax(q @ k.transpose(-1, -2) * scale, dim=-1), v


def _layer_output(layer, x: torch.Tensor, probabilities: torch.Tensor, v: torch.Tensor):
    """The layer's output tokens (T, C) as a function of its attention probabilities."""
    tokens, channels = x.shape
    o = (probabilities @ v).transpose(0, 1).reshape(tokens, channels)
    hidden = x + layer.self_attn.out_proj(o)
    return hidden + layer.mlp(layer.layer_norm2(hidden))


def legrad_scores(
    model,
    pixels: torch.Tensor,
    texts: torch.Tensor,
    *,
    start_layer: int = 0,
    pooling: str = "cls",
) -> torch.Tensor:
    """Raw LeGrad scores (K, P) ≥ 0 on the patch tokens of one image ``pixels`` (1, 3, S, S)
    for K normalised text embeddings ``texts`` (K, D)."""
    if pooling not in ("cls", "mean"):
        raise ValueError("LeGrad pooling is 'cls' or 'mean'.")
    if not hasattr(model, "vision_model"):
        raise ComputeError(
            "LeGrad is available for Hugging Face CLIP models only; evaluate this model with "
            "Grad-CAM, Grad-ECLIP and MedGrad-ECLIP.",
            f"LeGrad needs a CLIPModel, got {type(model).__name__}",
        )
    vision = model.vision_model
    layers = list(vision.encoder.layers)
    first = start_layer if start_layer >= 0 else len(layers) + start_layer
    if not 0 <= first < len(layers):
        raise ValueError(f"LeGrad start layer {start_layer} is outside the {len(layers)} layers.")
    texts = texts.float()

    def similarity_head(tokens: torch.Tensor) -> torch.Tensor:
        pooled = tokens[0] if pooling == "cls" else tokens.mean(dim=0)
        return F.normalize(model.visual_projection(vision.post_layernorm(pooled)), dim=-1)

    with torch.no_grad():
        hidden = vision.pre_layrnorm(vision.embeddings(pixels))[0].float()
    total = None
    for index, layer in enumerate(layers):
        with torch.no_grad():
            probabilities, v = _attention_probabilities(layer, hidden)
        if index >= first:

            def embedding_of(a, layer=layer, x=hidden, v=v):
                return similarity_head(_layer_output(layer, x, a, v))

            _, pull_back = vjp(embedding_of, probabilities)
            (grads,) = vmap(pull_back)(texts)  # (K, heads, T, T) = ∂s_k/∂A
            relevance = torch.relu(grads).mean(dim=1).mean(dim=1)[:, 1:].detach()
            total = relevance if total is None else total + relevance
        with torch.no_grad():
            hidden = _layer_output(layer, hidden, probabilities, v)
    return total / (len(layers) - first)
