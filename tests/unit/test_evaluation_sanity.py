"""Sanity checks: map agreement, cascading randomisation on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.explain import explain, load_model
from medgrad_desktop.explain.evaluation.sanity import cascading_randomisation, map_agreement


def test_map_agreement_of_identical_and_reversed_maps():
    rng = np.random.default_rng(0)
    a = rng.random((32, 40))
    same = map_agreement(a, a)
    assert same["spearman"] == pytest.approx(1.0) and same["ssim"] == pytest.approx(1.0)
    assert map_agreement(a, 1 - a)["spearman"] == pytest.approx(-1.0)
    assert np.isnan(map_agreement(a, np.zeros_like(a))["spearman"])


def test_cascading_randomisation_changes_maps_and_leaves_the_model_alone(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    before = {k: v.clone() for k, v in bundle.model.state_dict().items()}
    image = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)

    def maps(model_bundle):
        result = explain(model_bundle, image, ["a lesion"], methods=("gradcam", "gradeclip"))
        return {m: result.maps[m][0] for m in result.maps}

    result = cascading_randomisation(bundle, maps, seed=3)
    assert result["stages"] == ["projection", "layer 2", "layer 1", "embeddings"]
    for method in ("gradcam", "gradeclip"):
        assert len(result[method]) == 4
        assert result[method][-1]["ssim"] < 0.99  # the fully random model's map differs
    after = bundle.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    again = cascading_randomisation(bundle, maps, seed=3)
    assert again["gradeclip"] == result["gradeclip"]  # seeded
