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
from torch.func import vjp, vmap


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


LEGRAD_REFUSAL = "LeGrad is available for CLIP models in Hugging Face or OpenAI format only."


def legrad_refusal(tower) -> str | None:
    """The plain reason LeGrad cannot explain ``tower`` (it needs every layer's attention,
    which only the Hugging Face CLIP adapter exposes), or None when it can. The one check the
    computation, the viewer's LeGrad panel and the rating-session setup share."""
    if getattr(tower, "vision", None) is None or not hasattr(tower, "tokens"):
        return LEGRAD_REFUSAL
    return None


def legrad_scores(
    tower,
    pixels: torch.Tensor,
    texts: torch.Tensor,
    *,
    start_layer: int = 0,
    pooling: str = "cls",
) -> torch.Tensor:
    """Raw LeGrad scores (N, K, P) ≥ 0 on the patch tokens of images ``pixels`` (N, 3, H, W)
    for K normalised text embeddings ``texts`` (K, D); ``tower`` is a Hugging Face CLIP
    vision tower (``bundle.vision_tower``)."""
    if pooling not in ("cls", "mean"):
        raise ValueError("LeGrad pooling is 'cls' or 'mean'.")
    refusal = legrad_refusal(tower)
    if refusal is not None:
        from medgrad_desktop.errors import ComputeError

        raise ComputeError(refusal, f"tower {type(tower).__name__} has no per-layer access")
    layers = list(tower.vision.encoder.layers)
    first = start_layer if start_layer >= 0 else len(layers) + start_layer
    if not 0 <= first < len(layers):
        raise ValueError(f"LeGrad start layer {start_layer} is outside the {len(layers)} layers.")
    texts = texts.float()

    def embedding_of_tokens(tokens: torch.Tensor) -> torch.Tensor:
        pooled = tokens[:1] if pooling == "cls" else tokens.mean(dim=0, keepdim=True)
        return tower.embed(pooled)

    with torch.no_grad():
        all_tokens = tower.tokens(pixels).float()
    maps = []
    for hidden in all_tokens:  # one image at a time: (T, C)
        total = None
        for index, layer in enumerate(layers):
            with torch.no_grad():
                probabilities, v = _attention_probabilities(layer, hidden)
            if index >= first:

                def embedding_of(a, layer=layer, x=hidden, v=v):
                    return embedding_of_tokens(_layer_output(layer, x, a, v))

                _, pull_back = vjp(embedding_of, probabilities)
                (grads,) = vmap(pull_back)(texts)  # (K, heads, T, T) = ∂s_k/∂A
                relevance = torch.relu(grads).mean(dim=1).mean(dim=1)[:, 1:].detach()
                total = relevance if total is None else total + relevance
            with torch.no_grad():
                hidden = _layer_output(layer, hidden, probabilities, v)
        maps.append(total / (len(layers) - first))
    return torch.stack(maps)
