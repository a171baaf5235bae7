"""The seed notebook's way: one full forward + backward per prompt and per method, with hooks.

Slow on purpose; it is the plain-autograd reference the shared trunk is tested against and
the baseline of ``tests/benchmarks/bench_explain.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from medgrad_desktop.explain.attribution import METHODS, Evidence, check_methods
from medgrad_desktop.explain.bundle import ImageInput, ModelBundle


class _LastLayerHooks:
    """Capture x (layer input), q, k, v and o (input of out_proj) of the last vision layer."""

    def __init__(self, model) -> None:
        layer = model.vision_model.encoder.layers[-1]
        attention = layer.self_attn
        self.store: dict[str, torch.Tensor] = {}
        self.handles = [
            layer.register_forward_pre_hook(self._keep_input("x")),
            attention.out_proj.register_forward_pre_hook(self._keep_input("o")),
            attention.q_proj.register_forward_hook(self._keep_output("q")),
            attention.k_proj.register_forward_hook(self._keep_output("k")),
            attention.v_proj.register_forward_hook(self._keep_output("v")),
        ]

    def _keep_input(self, name):
        def hook(_module, args):
            args[0].retain_grad()
            self.store[name] = args[0]

        return hook

    def _keep_output(self, name):
        def hook(_module, _args, output):
            self.store[name] = output

        return hook

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def _one_pass(bundle: ModelBundle, pixels: torch.Tensor, text: torch.Tensor, method: str):
    model = bundle.model
    with torch.enable_grad(), _LastLayerHooks(model) as hooks:
        vision = model.vision_model(pixel_values=pixels)
        image_embedding = model.visual_projection(vision.pooler_output)[0]
        similarity = torch.nn.functional.cosine_similarity(image_embedding, text, dim=0)
        model.zero_grad(set_to_none=True)
        similarity.backward()
        s = hooks.store
        if method == "gradcam":
            features = s["x"][0, 1:]
            weights = s["x"].grad[0, 1:].mean(dim=0)
            scores = torch.relu(features @ weights)
        else:
            weights = s["o"].grad[0, 0]
            values = s["v"][0, 1:]
            if method == "gradeclip":
                lam = torch.nn.functional.cosine_similarity(s["q"][0, :1], s["k"][0, 1:], dim=-1)
                span = lam.max() - lam.min()
                lam = (lam - lam.min()) / span if span > 0 else torch.zeros_like(lam)
                scores = torch.relu((values * weights).sum(-1) * lam)
            else:
                scores = torch.relu((values * weights).sum(-1))
    return float(similarity.detach()), scores.detach().cpu().numpy()


def reference_evidence(
    bundle: ModelBundle,
    image: ImageInput,
    text_embeddings: torch.Tensor,
    methods: Sequence[str] = METHODS,
) -> Evidence:
    """``compute_evidence`` the slow way: 3·K full forward + backward passes."""
    methods = check_methods(methods)
    pixels = bundle.preprocess(image)
    grid = bundle.grid_side
    maps = {m: np.zeros((len(text_embeddings), grid, grid), np.float32) for m in methods}
    similarity = np.zeros(len(text_embeddings), np.float32)
    for index, text in enumerate(text_embeddings):
        for method in methods:
            similarity[index], scores = _one_pass(bundle, pixels, text, method)
            maps[method][index] = scores.reshape(grid, grid)
    probability = torch.softmax(bundle.logit_scale * torch.from_numpy(similarity), 0).numpy()
    return Evidence(similarity=similarity, probability=probability, patch_maps=maps)
