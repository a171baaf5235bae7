"""Map-quality metrics on hand-made maps and masks with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.explain.evaluation.deletion import (
    baseline_image,
    deletion_insertion_curves,
    pixel_ranking,
    step_counts,
)
from medgrad_desktop.explain.evaluation.localisation import (
    auroc,
    default_tolerance,
    energy_pointing_game,
    jaccard_at,
    jaccard_topk,
    localisation,
    pointing_game,
)
from medgrad_desktop.explain.evaluation.reference_maps import centre_map, random_map
from medgrad_desktop.explain.evaluation.statistics import bootstrap_mean, paired_difference


def _square_mask(shape=(20, 20), rows=slice(5, 10), cols=slice(5, 10)) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def test_a_map_equal_to_the_mask_scores_perfectly():
    mask = _square_mask()
    scores = localisation(mask.astype(np.float32), mask)
    assert scores == {
        "pointing_game": 1.0,
        "energy_pointing_game": 1.0,
        "jaccard_topk": 1.0,
        "jaccard_0.3": 1.0,
        "jaccard_0.5": 1.0,
        "jaccard_0.7": 1.0,
        "auroc": 1.0,
    }


def test_the_inverse_map_scores_zero():
    mask = _square_mask()
    scores = localisation((~mask).astype(np.float32), mask)
    assert scores["pointing_game"] == 0.0
    assert scores["energy_pointing_game"] == 0.0
    assert scores["jaccard_topk"] == 0.0
    assert scores["auroc"] == 0.0


def test_pointing_game_uses_the_first_maximum_and_the_tolerance():
    mask = _square_mask()
    saliency = np.zeros((20, 20))
    saliency[5, 13] = 1.0  # 4 px right of the mask's last column (9)
    assert pointing_game(saliency, mask, tolerance=3.9) == 0.0
    assert pointing_game(saliency, mask, tolerance=4.0) == 1.0
    saliency[7, 7] = 1.0  # a second, later maximum inside the mask: the first one counts
    assert pointing_game(saliency, mask) == 0.0
    saliency[0, 0] = 0.5
    saliency[3, 7] = 1.0  # an earlier maximum, 2 px above the mask
    assert pointing_game(saliency, mask, tolerance=2.0) == 1.0


def test_energy_pointing_game_of_a_flat_map_is_the_mask_share():
    mask = _square_mask()
    assert energy_pointing_game(np.ones((20, 20)), mask) == pytest.approx(25 / 400)
    assert energy_pointing_game(np.zeros((20, 20)), mask) == 0.0


def test_jaccard_top_k_breaks_ties_by_flat_index():
    mask = np.zeros((4, 4), dtype=bool)
    mask[0, :2] = True
    mask[3, 3] = True
    # a flat map: the top 3 pixels are flat indices 0, 1, 2 → 2 shared of 4 in the union
    assert jaccard_topk(np.ones((4, 4)), mask) == pytest.approx(2 / 4)


def test_jaccard_at_thresholds_counts_pixels_at_or_above():
    mask = np.array([[1, 1, 0, 0]], dtype=bool)
    saliency = np.array([[0.7, 0.5, 0.3, 0.0]])
    assert jaccard_at(saliency, mask, 0.3) == pytest.approx(2 / 3)
    assert jaccard_at(saliency, mask, 0.5) == 1.0
    assert jaccard_at(saliency, mask, 0.7) == pytest.approx(1 / 2)


def test_auroc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    saliency = np.round(rng.random((30, 30)), 1)  # many ties
    mask = rng.random((30, 30)) < 0.2
    assert auroc(saliency, mask) == pytest.approx(roc_auc_score(mask.ravel(), saliency.ravel()))
    assert np.isnan(auroc(saliency, np.ones((30, 30), dtype=bool)))


def test_default_tolerance_is_half_a_patch_in_image_pixels():
    assert default_tolerance((14, 14), (448, 448)) == pytest.approx(16.0)
    assert default_tolerance((14, 14), (224, 224)) == pytest.approx(8.0)
    assert default_tolerance((14, 21), (224, 336)) == pytest.approx(8.0)


def test_ranking_is_descending_and_stable_and_steps_round():
    saliency = np.array([[0.2, 0.9], [0.2, 0.9]])
    assert pixel_ranking(saliency).tolist() == [1, 3, 0, 2]
    assert step_counts(10, 4) == [0, 2, 5, 8, 10]  # 2.5 → 2 and 7.5 → 8 (half to even)
    with pytest.raises(ValueError):
        pixel_ranking(np.array([[np.nan, 1.0]]))


def test_baseline_images():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    mean = baseline_image(image, "mean")
    assert (mean == np.round(image.reshape(-1, 3).mean(0)).astype(np.uint8)).all()
    assert not baseline_image(image, "zero").any()
    noise = baseline_image(image, "noise", seed=4)
    assert (noise == baseline_image(image, "noise", seed=4)).all()
    assert not (noise == baseline_image(image, "noise", seed=5)).all()
    step = np.zeros((40, 40, 3), dtype=np.uint8)
    step[:, 20:] = 200
    blurred = baseline_image(step, "blur")[20, :, 0].astype(float)  # σ = 10 % of 40 px
    from scipy.stats import norm

    assert blurred[19] == pytest.approx(200 * norm.cdf(-0.5 / 4.0), abs=1.0)
    assert blurred[0] == 0 and blurred[39] == 200
    with pytest.raises(ValueError):
        baseline_image(image, "grey")


def _toy_encoder(red_pixels: np.ndarray):
    """Embedding [a, 1 − a] normalised, a = share of the object's pixels still red."""

    def encode(images):
        shares = [float((im[..., 0][red_pixels] == 255).mean()) for im in images]
        vectors = torch.tensor([[a, 1.0 - a] for a in shares])
        return torch.nn.functional.normalize(vectors, dim=-1)

    return encode


def test_a_perfect_ranking_deletes_the_score_first_on_a_toy_scorer():
    obj = _square_mask((8, 8), slice(0, 4), slice(0, 4))  # a quarter of the image
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    image[obj, 0] = 255
    text = torch.tensor([1.0, 0.0])
    perfect = deletion_insertion_curves(
        _toy_encoder(obj), text, image, obj.astype(float), steps=4, baseline="zero"
    )
    assert perfect.deletion.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert perfect.insertion.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert perfect.deletion_auc == pytest.approx(0.125)
    assert perfect.insertion_auc == pytest.approx(0.875)
    worst = deletion_insertion_curves(
        _toy_encoder(obj), text, image, (~obj).astype(float), steps=4, baseline="zero"
    )
    assert worst.deletion_auc == pytest.approx(0.875)
    assert worst.insertion_auc == pytest.approx(0.125)


def test_reference_maps():
    centre = centre_map((21, 31))
    assert np.unravel_index(centre.argmax(), centre.shape) == (10, 15)
    assert centre.min() == 0.0 and centre.max() == 1.0
    first = random_map((20, 20), (4, 4), "img/a")
    assert (first == random_map((20, 20), (4, 4), "img/a")).all()
    assert not (first == random_map((20, 20), (4, 4), "img/b")).all()
    assert first.min() == 0.0 and first.max() == 1.0


def test_bootstrap_mean_and_paired_difference():
    rng = np.random.default_rng(1)
    values = rng.normal(2.0, 1.0, 400)
    summary = bootstrap_mean(np.append(values, np.nan))
    assert summary["n"] == 400 and summary["mean"] == pytest.approx(values.mean())
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(400)
    assert summary["ci_high"] - summary["ci_low"] == pytest.approx(2 * half_width, rel=0.15)
    assert summary["ci_low"] < values.mean() < summary["ci_high"]
    assert bootstrap_mean([]) == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    difference = paired_difference(values, values + 0.5)
    assert difference["mean"] == pytest.approx(-0.5)
    assert difference["ci_low"] == pytest.approx(-0.5) and difference["ci_high"] == pytest.approx(
        -0.5
    )
