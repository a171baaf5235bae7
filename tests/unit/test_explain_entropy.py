"""Local entropy equals skimage's rank entropy; the MedGrad weight scales and normalises."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import rgb2gray
from skimage.filters.rank import entropy as rank_entropy
from skimage.morphology import disk

import medgrad_desktop.explain.entropy as entropy_module
from medgrad_desktop.explain import entropy_weight, local_entropy
from medgrad_desktop.explain.entropy import disk_entropy, radius_at_resolution, work_shape


@pytest.mark.parametrize("radius", [1, 3, 5, 12])
def test_local_entropy_equals_skimage(radius):
    rgb = np.random.default_rng(radius).integers(0, 256, (57, 83, 3), dtype=np.uint8)
    grey = np.round(rgb2gray(rgb) * 255).astype(np.uint8)
    expected = rank_entropy(grey, disk(radius))
    result = local_entropy(rgb, radius)
    assert result.dtype == np.float32 and result.shape == (57, 83)
    np.testing.assert_allclose(result, expected, atol=1e-5)


@pytest.mark.parametrize(("height", "threads", "radius"), [(97, 2, 7), (301, 3, 5), (150, 4, 40)])
def test_entropy_in_strips_equals_one_pass(height, threads, radius):
    """The strips' extra rows must cover the whole disk: a seam would differ near a cut."""
    grey = np.random.default_rng(height).integers(0, 256, (height, 131), dtype=np.uint8)
    grey[:, 60:] //= 16  # a second texture, so the values vary along the columns too
    assert height // entropy_module.MIN_STRIP_ROWS >= 2  # the image is really split
    result = disk_entropy(grey, radius, threads)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, rank_entropy(grey, disk(radius)).astype(np.float32))


def test_local_entropy_of_flat_image_is_zero_and_bits_bounded():
    flat = np.full((20, 20, 3), 90, np.uint8)
    assert local_entropy(flat, 3).max() == 0
    noisy = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    assert local_entropy(noisy, 4).max() <= 8.0


def test_radius_is_scaled_from_model_pixels():
    assert radius_at_resolution(5, (448, 448), 224, (448, 448)) == 10
    assert radius_at_resolution(5, (112, 112), 224, (112, 112)) in (2, 3)
    assert radius_at_resolution(0.1, (50, 50), 224, (50, 50)) == 1
    assert work_shape((1000, 500), 320) == (320, 160)


def test_entropy_weight_in_unit_range_and_matches_at_model_size():
    rgb = np.random.default_rng(1).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    rgb[:100] = 40
    weight = entropy_weight(rgb, 5, 224, max_side=224)
    expected = local_entropy(rgb, 5)
    np.testing.assert_allclose(weight, expected / expected.max(), atol=1e-6)
    big = np.kron(rgb, np.ones((3, 3, 1), np.uint8))
    scaled = entropy_weight(big, 5, 224)
    assert scaled.shape == big.shape[:2]
    assert scaled.min() >= 0.0 and scaled.max() == pytest.approx(1.0)
    assert scaled[:250].mean() < scaled[400:].mean()
