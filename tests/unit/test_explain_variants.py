"""Both variants × three geometries equal the plain-autograd reference in
``tests/explain_reference.py``."""

from __future__ import annotations

import numpy as np
import pytest

from medgrad_desktop.explain import compute_evidence, load_model
from medgrad_desktop.explain.geometry import input_shape
from tests.explain_reference import reference_input, reference_maps

PROMPTS = [f"dermoscopic criterion {i}" for i in range(9)]


CASES = [
    *[(16, 9, (50, 83), geometry) for geometry in ("square", "aspect", "native")],
    *[(32, 1, (91, 40), geometry) for geometry in ("square", "aspect", "native")],
    (32, 1, (700, 1000), "native"),  # short side > 640: the authors' shrink first
]


@pytest.mark.parametrize("variant", ["model", "zhao2024"])
@pytest.mark.parametrize(("patch_size", "k", "shape", "geometry"), CASES)
def test_variants_and_geometries_equal_the_plain_autograd_reference(
    tiny_model_factory, variant, geometry, patch_size, k, shape
):
    bundle = load_model(tiny_model_factory(64, patch_size))
    image = np.random.default_rng(k + shape[0]).integers(0, 256, (*shape, 3), dtype=np.uint8)
    texts = bundle.encode_text(PROMPTS[:k])
    fast = compute_evidence(bundle, image, texts, variant=variant, geometry=geometry)
    similarity, probability, slow = reference_maps(bundle, image, texts, variant, geometry)
    expected_hw = reference_input(image, geometry, 64, patch_size).shape[:2]
    assert input_shape(*shape, geometry, 64, patch_size) == expected_hw
    grid = (expected_hw[0] // patch_size, expected_hw[1] // patch_size)
    np.testing.assert_allclose(fast.similarity, similarity, atol=1e-5)
    np.testing.assert_allclose(fast.probability, probability, atol=1e-5)
    for method, expected in slow.items():
        assert fast.patch_maps[method].shape == (k, *grid)
        scale = max(float(np.abs(expected).max()), 1e-12)
        np.testing.assert_allclose(fast.patch_maps[method] / scale, expected / scale, atol=1e-5)
    assert any(slow[m].max() > 0 for m in slow), "degenerate model: all maps zero"


def test_the_two_variants_give_different_maps(tiny_model_factory):
    """zhao2024 is not the model's forward: its Grad-CAM differs (weights over all tokens)."""
    bundle = load_model(tiny_model_factory(64, 16))
    image = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    texts = bundle.encode_text(PROMPTS[:3])
    ours = compute_evidence(bundle, image, texts, variant="model")
    theirs = compute_evidence(bundle, image, texts, variant="zhao2024")
    np.testing.assert_allclose(ours.similarity, theirs.similarity, atol=1e-6)
    for method in ("gradcam", "gradeclip"):
        assert not np.allclose(ours.patch_maps[method], theirs.patch_maps[method], atol=1e-4)
