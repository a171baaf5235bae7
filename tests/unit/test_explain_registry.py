"""The method registry, the geometry rules and the tower seam."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.errors import ComputeError
from medgrad_desktop.explain import explain, load_model
from medgrad_desktop.explain.geometry import check_token_budget, input_shape, resize_for_geometry
from medgrad_desktop.explain.methods import (
    AttributionMethod,
    all_methods,
    default_methods,
    get_method,
    method_title,
    register,
    registry,
)
from medgrad_desktop.explain.methods.base import relu_channel_sum
from medgrad_desktop.explain.towers import interpolate_positions


def test_registry_lists_the_three_methods_in_display_order_with_their_needs():
    assert default_methods() == ("gradcam", "gradeclip", "medgrad")
    assert method_title("medgrad") == "MedGrad-ECLIP"
    assert get_method("medgrad").pixel_weight == "entropy"
    assert get_method("gradcam").pixel_weight is None
    assert get_method("gradeclip").needs == {"cls_gradient", "loosened_attention"}
    with pytest.raises(ValueError):
        get_method("lime")


def test_a_new_method_class_is_explained_everywhere_explain_reads_the_registry(
    tiny_model_dir, monkeypatch
):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @register
    class ValueNorm(AttributionMethod):
        """A toy comparator: the summed |v| of each patch, the same for every prompt."""

        name, title, needs, default, order = "valuenorm", "Value norm", frozenset(), False, 90

        def patch_scores(self, layer):
            n, _, channels = layer.x.shape
            ones = torch.ones(n, len(layer.texts), channels)
            return relu_channel_sum(ones, layer.patch_values.abs())

    bundle = load_model(tiny_model_dir)
    assert "valuenorm" in all_methods() and "valuenorm" not in default_methods()
    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    result = explain(bundle, image, ["a", "b"], methods=("valuenorm", "gradcam"))
    assert list(result.maps) == ["gradcam", "valuenorm"]
    assert result.maps["valuenorm"].shape == (2, 40, 60)
    value_maps = result.patch_maps["valuenorm"]
    np.testing.assert_array_equal(value_maps[0], value_maps[1])
    assert value_maps.max() > 0


def test_a_method_asking_for_an_unknown_input_is_refused():
    class Bad(AttributionMethod):
        name, title, needs = "bad", "Bad", frozenset({"telepathy"})

    with pytest.raises(ValueError, match="telepathy"):
        register(Bad)


@pytest.mark.parametrize(
    ("shape", "geometry", "patch", "expected"),
    [
        ((450, 600), "square", 16, (224, 224)),
        ((560, 768), "aspect", 16, (224, 304)),  # 224·768/560 = 307.2 → 307 → 304
        ((768, 560), "aspect", 32, (320, 224)),
        ((560, 768), "native", 16, (560, 768)),
        ((567, 770), "native", 16, (560, 768)),  # int(567/16 + .5)·16 = 560
        ((1000, 2000), "native", 16, (640, 1280)),  # shrunk so the short side is 640
    ],
)
def test_geometry_input_shapes(shape, geometry, patch, expected):
    assert input_shape(*shape, geometry, 224, patch) == expected


def test_native_geometry_does_not_resample_an_image_already_on_the_patch_grid():
    image = np.random.default_rng(0).integers(0, 256, (96, 160, 3), dtype=np.uint8)
    assert resize_for_geometry(image, "native", 64, 16) is image
    aspect = resize_for_geometry(image, "aspect", 64, 16)
    assert aspect.shape == (64, 112, 3)  # 64·160/96 = 106.7 → 107 → 112
    assert resize_for_geometry(aspect, "aspect", 64, 16) is aspect  # idempotent


def test_a_token_count_over_the_memory_budget_is_refused_with_a_plain_message():
    check_token_budget((40, 60), prompts=9, heads=1)
    with pytest.raises(ComputeError, match="too large to explain"):
        check_token_budget((200, 300), prompts=9, heads=12)


def test_positional_embeddings_are_kept_on_the_model_grid_and_interpolated_elsewhere():
    positions = torch.randn(1 + 16, 8)
    assert interpolate_positions(positions, 1, 4, 4, 4) is positions
    wide = interpolate_positions(positions, 1, 4, 4, 6)
    assert wide.shape == (1 + 24, 8)
    torch.testing.assert_close(wide[0], positions[0])
    grid = positions[1:].reshape(1, 4, 4, 8).permute(0, 3, 1, 2)
    expected = torch.nn.functional.interpolate(
        grid, size=(4, 6), mode="bicubic", align_corners=False
    )
    torch.testing.assert_close(wide[1:], expected.permute(0, 2, 3, 1).reshape(24, 8))
