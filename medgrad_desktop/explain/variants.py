"""The last vision block seen two ways (``variant=``), for N images × K prompts at once.

- ``"model"``: the model's own multi-head forward; λ = cos(q_cls, k_i).
- ``"zhao2024"``: what the Grad-ECLIP authors' ``generate_emap.py`` computes: the block
  recomputed with ONE head over the full width (scale C^-0.5) and the gradients taken of that
  recomputed similarity; λ = cos(out_proj(q_cls), out_proj(k_i)) (out_proj with its bias).
  The similarity and probabilities shown are still the model's own.

``LastLayer`` computes each quantity a method may need on first use: ∂S/∂o_cls by one forward
and one backward batched over the K text vectors (autograd's ``is_grads_batched``), ∂S/∂x the
same way, λ min–max normalised with ``torch.where`` (no data-dependent Python branches, so it
compiles without graph breaks with ``torch._dynamo.config.trace_autograd_ops`` on). Autograd,
not ``torch.func``: functorch's first pull-back imports torch's whole compiler (over a second on
two cores) before the first map can be drawn.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from medgrad_desktop.explain.provenance import check_variant
from medgrad_desktop.explain.towers.base import VisionTower


def _once(method):
    """A read-only property computed on first use and kept (``functools.cached_property``
    takes a lock that ``torch.compile`` cannot trace)."""
    name = method.__name__

    @functools.wraps(method)
    def getter(self):
        if name not in self._computed:
            self._computed[name] = method(self)
        return self._computed[name]

    return property(getter)


def minmax_rows(values: torch.Tensor) -> torch.Tensor:
    """Min–max normalise the last axis to [0, 1]; a constant row becomes 0."""
    low = values.amin(dim=-1, keepdim=True)
    span = values.amax(dim=-1, keepdim=True) - low
    safe = torch.where(span > 0, span, torch.ones_like(span))
    return torch.where(span > 0, (values - low) / safe, torch.zeros_like(values))


class LastLayer:
    """Quantities of the last block for tokens ``x`` (N, T, C) entering it and unit text
    vectors ``texts`` (K, D); S_nk = cos(image n, prompt k) of the ``variant``'s forward."""

    def __init__(
        self,
        tower: VisionTower,
        x: torch.Tensor,
        texts: torch.Tensor,
        variant: str,
        pixels: torch.Tensor | None = None,
    ):
        self.tower = tower
        self.x = x
        self.pixels = pixels  # the model input, for methods that need every layer
        self.texts = texts
        self.variant = check_variant(variant)
        self.prefix = tower.prefix_tokens
        self.heads = tower.num_heads if variant == "model" else 1
        self._computed: dict[str, object] = {}

    @_once
    def qkv(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return self.tower.qkv(self.x)

    def _prefix_embedding(self, o_prefix: torch.Tensor) -> torch.Tensor:
        """Image embeddings (N, D) as a function of the attention output at the prefix."""
        return self.tower.embed(self.tower.block_output(self.x[:, : self.prefix], o_prefix))

    def _embedding_of_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Image embeddings (N, D) as a function of the tokens entering the block."""
        q, k, v = self.tower.qkv(x)
        o = self.tower.attention(q[:, : self.prefix], k, v, self.heads)
        return self.tower.embed(self.tower.block_output(x[:, : self.prefix], o))

    def _text_gradients(self, embedding_of, inputs: torch.Tensor):
        """(embedding_of(inputs) (N, D), ∂⟨embedding_of(inputs), t_k⟩/∂inputs for every
        prompt k, (K, N, ...)): one forward, one backward batched over the K text vectors."""
        inputs = inputs.detach().requires_grad_(True)
        with torch.enable_grad():
            embeddings = embedding_of(inputs)
            cotangents = self.texts[:, None, :].expand(-1, inputs.shape[0], -1)
            (gradients,) = torch.autograd.grad(
                embeddings, inputs, cotangents.to(embeddings.dtype), is_grads_batched=True
            )
        return embeddings.detach(), gradients

    @_once
    def _cls_pass(self) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = self.qkv
        o_prefix = self.tower.attention(q[:, : self.prefix], k, v, self.heads)
        embedding, gradients = self._text_gradients(self._prefix_embedding, o_prefix)
        return embedding, gradients[:, :, 0].transpose(0, 1).detach()  # (N, K, C)

    @_once
    def similarity(self) -> torch.Tensor:
        """S (N, K) of this variant's forward (the one the gradients are taken of)."""
        with torch.no_grad():
            q, k, v = self.qkv
            o_prefix = self.tower.attention(q[:, : self.prefix], k, v, self.heads)
            return self._prefix_embedding(o_prefix) @ self.texts.T

    @_once
    def model_similarity(self) -> torch.Tensor:
        """S (N, K) of the model's own forward (what the user is shown)."""
        if self.variant == "model":
            return self.similarity
        return LastLayer(self.tower, self.x, self.texts, "model").similarity

    @_once
    def cls_gradient(self) -> torch.Tensor:
        """∂S/∂o_cls (N, K, C), o the attention output before out_proj."""
        return self._cls_pass[1]

    @_once
    def token_gradient(self) -> torch.Tensor:
        """∂S/∂x (N, K, T, C), x the tokens entering the block."""
        _, gradients = self._text_gradients(self._embedding_of_tokens, self.x)
        return gradients.transpose(0, 1).detach()

    @_once
    def loosened_attention(self) -> torch.Tensor:
        """λ (N, P): cosine of the CLS query with each patch key, min–max normalised."""
        q, k, _ = self.qkv
        q_cls, k_patches = q[:, :1], k[:, self.prefix :]
        if self.variant == "zhao2024":
            with torch.no_grad():
                q_cls, k_patches = self.tower.out_proj(q_cls), self.tower.out_proj(k_patches)
        return minmax_rows(F.cosine_similarity(q_cls, k_patches, dim=-1))

    @property
    def patch_tokens(self) -> torch.Tensor:
        """x at the patches (N, P, C)."""
        return self.x[:, self.prefix :]

    @property
    def patch_values(self) -> torch.Tensor:
        """v at the patches (N, P, C)."""
        return self.qkv[2][:, self.prefix :]
