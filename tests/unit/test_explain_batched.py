"""explain_many equals explain per image; the pixels-in evidence compiles whole; bf16 trunk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.explain import explain, explain_many, load_model, pixel_evidence
from medgrad_desktop.explain.batch_evidence import evidence_for_images

PROMPTS = ["melanoma", "atypical nevus", "common nevus", "blue-whitish veil"]
SHAPES = [(50, 83), (64, 64), (83, 50), (100, 166), (64, 64)]


def _images(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for shape in SHAPES]


@pytest.mark.parametrize(("variant", "geometry"), [("model", "aspect"), ("zhao2024", "square")])
def test_explain_many_equals_explain_per_image(tiny_model_dir, variant, geometry):
    bundle = load_model(tiny_model_dir)
    images = _images()
    many = explain_many(bundle, images, PROMPTS, batch_size=2, variant=variant, geometry=geometry)
    assert len(many) == len(images)
    for image, batched in zip(images, many, strict=True):
        single = explain(bundle, image, PROMPTS, variant=variant, geometry=geometry)
        assert (batched.variant, batched.geometry) == (variant, geometry)
        np.testing.assert_allclose(batched.similarity, single.similarity, atol=1e-5)
        np.testing.assert_allclose(batched.probability, single.probability, atol=1e-5)
        for method in single.patch_maps:
            scale = max(float(single.patch_maps[method].max()), 1e-12)
            np.testing.assert_allclose(
                batched.patch_maps[method] / scale, single.patch_maps[method] / scale, atol=1e-5
            )
            np.testing.assert_allclose(batched.maps[method], single.maps[method], atol=1e-4)
            assert batched.maps[method].shape == (len(PROMPTS), *image.shape[:2])


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


BF16_MIN_PEARSON = 0.999


@pytest.mark.parametrize("variant", ["model", "zhao2024"])
def test_bf16_trunk_maps_correlate_with_fp32(tiny_model_factory, variant):
    """Measured tolerance on CPU: Pearson ≥ 0.999 for every method's patch maps."""
    bundle = load_model(tiny_model_factory(64, 16))
    images = _images(1)
    texts = bundle.encode_text(PROMPTS)
    exact = evidence_for_images(bundle, images, texts, variant=variant, precision="fp32")
    half = evidence_for_images(bundle, images, texts, variant=variant, precision="bf16")
    for method in exact[0].patch_maps:
        a = np.concatenate([e.patch_maps[method].ravel() for e in exact])
        b = np.concatenate([e.patch_maps[method].ravel() for e in half])
        assert _pearson(a, b) >= BF16_MIN_PEARSON, method
        assert not np.array_equal(a, b), "the bf16 trunk was not used"


@pytest.mark.parametrize("variant", ["model", "zhao2024"])
def test_pixel_evidence_compiles_without_graph_breaks(tiny_model_dir, variant):
    bundle = load_model(tiny_model_dir)
    tower = bundle.vision_tower
    texts = bundle.encode_text(PROMPTS)
    pixels = torch.randn(2, 3, 64, 96)
    methods = ("gradcam", "gradeclip", "medgrad")

    def run(p, t):
        return pixel_evidence(tower, p, t, methods, variant)

    torch._dynamo.reset()
    compiled = torch.compile(run, fullgraph=True, backend="eager")  # raises on a graph break
    with torch._dynamo.config.patch(trace_autograd_ops=True):
        expected, got = run(pixels, texts), compiled(pixels, texts)
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, atol=1e-6, rtol=1e-5)


@pytest.mark.slow
def test_pixel_evidence_compiles_through_aot_autograd(tiny_model_dir):
    """The batched backward traces through AOTAutograd too (what inductor and CUDA graphs use)."""
    bundle = load_model(tiny_model_dir)
    tower = bundle.vision_tower
    texts = bundle.encode_text(PROMPTS[:2])
    pixels = torch.randn(1, 3, 64, 64)

    def run(p, t):
        return pixel_evidence(tower, p, t, ("gradcam", "gradeclip"), "model")

    torch._dynamo.reset()
    compiled = torch.compile(run, fullgraph=True, backend="aot_eager")
    with torch._dynamo.config.patch(trace_autograd_ops=True):
        expected, got = run(pixels, texts), compiled(pixels, texts)
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, atol=1e-5, rtol=1e-4)
