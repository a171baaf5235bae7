"""The shared-trunk maps equal plain autograd (one backward per prompt and method)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.explain import METHODS, compute_evidence, explain, load_model
from medgrad_desktop.explain.reference import reference_evidence

PROMPTS = [
    "melanoma",
    "atypical nevus",
    "common nevus",
    "blue-whitish veil",
    "irregular streaks",
    "typical pigment network",
    "regression areas",
    "dots and globules",
    "asymmetry in two axes",
    "dark brown colour",
]


def _prompts(k: int) -> list[str]:
    return [f"{PROMPTS[i % len(PROMPTS)]} {i // len(PROMPTS) or ''}".strip() for i in range(k)]


@pytest.mark.parametrize(
    ("image_size", "patch_size", "k", "shape"),
    [
        (64, 16, 1, (50, 83)),
        (64, 32, 7, (91, 40)),
        (64, 16, 30, (64, 64)),
        (224, 16, 7, (120, 200)),
        (224, 32, 30, (230, 170)),
    ],
)
def test_shared_trunk_equals_plain_autograd(tiny_model_factory, image_size, patch_size, k, shape):
    bundle = load_model(tiny_model_factory(image_size, patch_size))
    rng = np.random.default_rng(k)
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    texts = bundle.encode_text(_prompts(k))
    fast = compute_evidence(bundle, image, texts)
    slow = reference_evidence(bundle, image, texts)
    np.testing.assert_allclose(fast.similarity, slow.similarity, atol=1e-5)
    np.testing.assert_allclose(fast.probability, slow.probability, atol=1e-5)
    grid = image_size // patch_size
    for method in METHODS:
        assert fast.patch_maps[method].shape == (k, grid, grid)
        scale = max(float(np.abs(slow.patch_maps[method]).max()), 1e-12)
        np.testing.assert_allclose(
            fast.patch_maps[method] / scale, slow.patch_maps[method] / scale, atol=1e-5
        )
        assert (fast.patch_maps[method] >= 0).all()
    assert any(slow.patch_maps[m].max() > 0 for m in METHODS), "degenerate model: all maps zero"


def test_similarity_matches_embeddings(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    image = np.random.default_rng(1).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    texts = bundle.encode_text(PROMPTS[:4])
    evidence = compute_evidence(bundle, image, texts)
    direct = (bundle.encode_image(image) @ texts.T)[0].numpy()
    np.testing.assert_allclose(evidence.similarity, direct, atol=1e-5)
    logits = torch.from_numpy(direct) * bundle.logit_scale
    np.testing.assert_allclose(evidence.probability, torch.softmax(logits, 0).numpy(), atol=1e-5)


def test_explain_public_api_shapes_and_ranges(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    image = np.random.default_rng(2).integers(0, 256, (61, 97, 3), dtype=np.uint8)
    result = explain(bundle, image, PROMPTS[:3], entropy_radius=3)
    assert result.similarity.shape == (3,) and result.probability.shape == (3,)
    assert abs(float(result.probability.sum()) - 1.0) < 1e-5
    for method in METHODS:
        assert result.maps[method].shape == (3, 61, 97)
        assert result.maps[method].dtype == np.float32
        assert result.maps[method].min() >= 0.0 and result.maps[method].max() <= 1.0


def test_subset_of_methods_and_ensembles(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    image = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    result = explain(
        bundle, image, [("melanoma", "malignant melanoma"), "nevus"], methods=("gradeclip",)
    )
    assert set(result.maps) == {"gradeclip"}
    assert result.prompts == ["melanoma / malignant melanoma", "nevus"]
    ensemble = bundle.encode_prompts([("melanoma", "malignant melanoma")])[0]
    parts = bundle.encode_text(["melanoma", "malignant melanoma"]).mean(0)
    np.testing.assert_allclose(ensemble.numpy(), (parts / parts.norm()).numpy(), atol=1e-6)


def test_medgrad_radius_changes_only_medgrad(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    image = np.random.default_rng(4).integers(0, 256, (80, 80, 3), dtype=np.uint8)
    image[:40] = 128  # flat half: low entropy there
    small = explain(bundle, image, PROMPTS[:2], entropy_radius=1)
    large = explain(bundle, image, PROMPTS[:2], entropy_radius=12)
    np.testing.assert_array_equal(small.maps["gradcam"], large.maps["gradcam"])
    np.testing.assert_array_equal(small.maps["gradeclip"], large.maps["gradeclip"])
    assert not np.allclose(small.maps["medgrad"], large.maps["medgrad"])
