"""LeGrad against a plain-autograd implementation on the Hugging Face modules themselves."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from medgrad_desktop.explain import load_model
from medgrad_desktop.explain.legrad import legrad_scores
from tests.tiny_models import transformers_clip


def _plain_autograd_legrad(model, pixels, texts, start_layer, pooling):
    """The formula on HF's eager forward: capture every layer's attention probabilities, take
    ∂s^l/∂A^l one prompt and one layer at a time, ReLU, mean over heads and rows, patch columns."""
    model.set_attn_implementation("eager")
    captured = []
    layers = model.vision_model.encoder.layers
    hooks = [
        layer.self_attn.register_forward_hook(lambda m, i, o: captured.append(o[1]))
        for layer in layers
    ]
    try:
        hidden = model.vision_model(pixel_values=pixels, output_hidden_states=True).hidden_states
    finally:
        for hook in hooks:
            hook.remove()
    first = start_layer % len(layers)
    maps = []
    for text in texts:
        total = 0
        for index in range(first, len(layers)):
            tokens = hidden[index + 1][0]
            pooled = tokens[0] if pooling == "cls" else tokens.mean(0)
            embedding = F.normalize(
                model.visual_projection(model.vision_model.post_layernorm(pooled)), dim=-1
            )
            (grad,) = torch.autograd.grad(embedding @ text, captured[index], retain_graph=True)
            total = total + grad[0].clamp(min=0).mean(dim=0).mean(dim=0)[1:]
        maps.append(total / (len(layers) - first))
    return torch.stack(maps)


@pytest.mark.parametrize(
    ("size", "patch", "seed", "start_layer", "pooling"),
    [(64, 16, 0, 0, "cls"), (48, 8, 1, -2, "mean"), (64, 16, 2, 1, "mean")],
)
def test_legrad_equals_plain_autograd(tiny_model_factory, size, patch, seed, start_layer, pooling):
    bundle = load_model(tiny_model_factory(image_size=size, patch_size=patch, seed=seed))
    image = np.random.default_rng(seed).integers(0, 256, (size + 5, size - 3, 3), dtype=np.uint8)
    pixels = bundle.preprocess(image)
    texts = bundle.encode_text(["a pigment network", "blue-whitish veil", "dots"])
    ours = legrad_scores(
        bundle.vision_tower, pixels, texts, start_layer=start_layer, pooling=pooling
    )[0]
    model = transformers_clip(bundle.source)
    reference = _plain_autograd_legrad(model, pixels, texts, start_layer, pooling)
    assert ours.shape == (3, (size // patch) ** 2)
    assert reference.abs().max() > 0  # the reference is not trivially zero
    torch.testing.assert_close(ours, reference, atol=1e-5, rtol=0)
    assert not torch.allclose(ours[0], ours[1])  # the maps depend on the prompt


def test_legrad_refuses_a_layer_outside_the_model(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    pixels = bundle.preprocess(np.zeros((64, 64, 3), dtype=np.uint8))
    with pytest.raises(ValueError):
        legrad_scores(bundle.vision_tower, pixels, bundle.encode_text(["a"]), start_layer=5)


def test_legrad_is_a_registered_optional_method(tiny_model_dir):
    from medgrad_desktop.explain import explain
    from medgrad_desktop.explain.methods import all_methods, default_methods

    assert "legrad" in all_methods() and "legrad" not in default_methods()
    bundle = load_model(tiny_model_dir)
    image = np.random.default_rng(5).integers(0, 256, (70, 50, 3), dtype=np.uint8)
    result = explain(bundle, image, ["a", "b"], methods=("gradeclip", "legrad"), geometry="aspect")
    pixels = bundle.preprocess(image, "aspect")
    direct = legrad_scores(bundle.vision_tower, pixels, bundle.encode_prompts(["a", "b"]))[0]
    gh, gw = pixels.shape[-2] // 16, pixels.shape[-1] // 16
    assert result.patch_maps["legrad"].shape == (2, gh, gw) and gh != gw
    np.testing.assert_allclose(result.patch_maps["legrad"].reshape(2, -1), direct, atol=1e-6)
    assert result.maps["legrad"].shape == (2, 70, 50)
