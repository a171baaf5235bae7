"""Deletion and insertion curves: how the image–prompt similarity falls as the map's most
salient pixels are removed, and rises as they are restored onto a blank baseline.

Protocol (fixed, so that numbers compare across papers): pixels are ranked by the display map,
descending, ties by ascending flat index (a stable sort). At step j = 0…steps the first
round(j·H·W/steps) ranked pixels (Python's round, half to even) are replaced by the baseline
(deletion) or, starting from the all-baseline image, restored from the original (insertion).
The score is the cosine similarity between the modified image's embedding and the prompt's; the
area under each curve is the trapezoid rule over the fractions j/steps in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

BASELINES = ("mean", "blur", "zero", "noise")
ENCODE_BATCH = 16


@dataclass
class DeletionInsertion:
    """Scores of the ``steps + 1`` deletion and insertion images, and their areas."""

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray

    @property
    def deletion_auc(self) -> float:
        return trapezoid_auc(self.fractions, self.deletion)

    @property
    def insertion_auc(self) -> float:
        return trapezoid_auc(self.fractions, self.insertion)


def trapezoid_auc(fractions: np.ndarray, scores: np.ndarray) -> float:
    """Area under a curve by the trapezoid rule."""
    return float(np.trapezoid(np.asarray(scores, np.float64), np.asarray(fractions, np.float64)))


def baseline_image(image: np.ndarray, baseline: str = "mean", seed: int = 0) -> np.ndarray:
    """The all-baseline image (H, W, 3) uint8: ``mean`` (per-channel mean, rounded), ``blur``
    (Gaussian, σ = 10 % of the short side), ``zero`` (black) or ``noise`` (uniform, seeded)."""
    if baseline == "mean":
        mean = np.round(image.reshape(-1, image.shape[-1]).mean(axis=0))
        return np.broadcast_to(mean.astype(np.uint8), image.shape).copy()
    if baseline == "blur":
        sigma = 0.1 * min(image.shape[:2])
        blurred = gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0), mode="nearest")
        return np.clip(np.round(blurred), 0, 255).astype(np.uint8)
    if baseline == "zero":
        return np.zeros_like(image)
    if baseline == "noise":
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, size=image.shape, dtype=np.uint8)
    raise ValueError(f"Unknown baseline {baseline!r}; choose one of {', '.join(BASELINES)}.")


def pixel_ranking(saliency: np.ndarray) -> np.ndarray:
    """Flat pixel indices by saliency, descending; ties by ascending flat index."""
    values = np.asarray(saliency, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError("The saliency map contains values that are not finite numbers.")
    return np.argsort(-values, kind="stable")


def step_counts(n_pixels: int, steps: int) -> list[int]:
    """How many ranked pixels are changed at each step j = 0…steps: round(j·n/steps)."""
    if steps < 1:
        raise ValueError("The number of deletion steps must be at least 1.")
    return [round(j * n_pixels / steps) for j in range(steps + 1)]


def _modified_images(
    source: np.ndarray, target: np.ndarray, order: np.ndarray, counts: Sequence[int]
):
    """Yield ``source`` with the first ``count`` ranked pixels taken from ``target``."""
    height, width, channels = source.shape
    flat_source = source.reshape(-1, channels)
    flat_target = target.reshape(-1, channels)
    current = flat_source.copy()
    done = 0
    for count in counts:  # counts never decrease, so each step only adds pixels
        chosen = order[done:count]
        current[chosen] = flat_target[chosen]
        done = max(done, count)
        yield current.reshape(height, width, channels).copy()


def _scores(
    encode: Callable[[list[np.ndarray]], torch.Tensor],
    images,
    text: torch.Tensor,
    batch_size: int,
) -> np.ndarray:
    scores: list[float] = []
    batch: list[np.ndarray] = []
    for image in images:
        batch.append(image)
        if len(batch) == batch_size:
            scores += (encode(batch) @ text).tolist()
            batch = []
    if batch:
        scores += (encode(batch) @ text).tolist()
    return np.asarray(scores, dtype=np.float64)


def deletion_insertion_curves(
    encode: Callable[[list[np.ndarray]], torch.Tensor],
    text_embedding: torch.Tensor,
    image: np.ndarray,
    saliency: np.ndarray,
    steps: int = 20,
    baseline: str | np.ndarray = "mean",
    seed: int = 0,
    batch_size: int = ENCODE_BATCH,
) -> DeletionInsertion:
    """The curves for any image encoder ``encode(list of H×W×3 uint8) -> (N, D)`` normalised
    embeddings and a normalised text embedding (D,)."""
    if saliency.shape != image.shape[:2]:
        raise ValueError(
            f"The map is {saliency.shape[1]}×{saliency.shape[0]} pixels but the image is "
            f"{image.shape[1]}×{image.shape[0]}; give the map at the image's resolution."
        )
    blank = baseline if isinstance(baseline, np.ndarray) else baseline_image(image, baseline, seed)
    order = pixel_ranking(saliency)
    counts = step_counts(order.size, steps)
    text = text_embedding.reshape(-1).float().cpu()

    def cpu_encode(batch):
        return encode(batch).float().cpu()

    deletion = _scores(cpu_encode, _modified_images(image, blank, order, counts), text, batch_size)
    insertion = _scores(cpu_encode, _modified_images(blank, image, order, counts), text, batch_size)
    fractions = np.arange(steps + 1, dtype=np.float64) / steps
    return DeletionInsertion(fractions=fractions, deletion=deletion, insertion=insertion)


def image_encoder(bundle, geometry: str = "square") -> Callable[[list[np.ndarray]], torch.Tensor]:
    """``encode(images)`` for ``bundle`` with the same geometry as the maps: the model's own
    encoder for "square", else the vision tower on the geometry's input shape."""
    if geometry == "square":
        return bundle.encode_image
    tower = bundle.vision_tower

    @torch.no_grad()
    def encode(images: list[np.ndarray]) -> torch.Tensor:
        x = tower.trunk(bundle.preprocess(images, geometry))
        q, k, v = tower.qkv(x)
        prefix = tower.prefix_tokens
        o = tower.attention(q[:, :prefix], k, v, tower.num_heads)
        return tower.embed(tower.block_output(x[:, :prefix], o)).float()

    return encode


def deletion_insertion(
    bundle,
    image: np.ndarray,
    prompt: str | Sequence[str],
    saliency: np.ndarray,
    steps: int = 20,
    baseline: str = "mean",
    *,
    seed: int = 0,
    geometry: str = "square",
    batch_size: int = ENCODE_BATCH,
    **_explain_options,
) -> DeletionInsertion:
    """Deletion and insertion curves of ``saliency`` (H×W, the display map) on ``image``
    (H×W×3 uint8) for ``prompt`` (a text or synonyms), scored by ``bundle``'s cosine similarity.

    Other explain options (``variant``, ``entropy_radius``) do not change the score and are
    accepted so that one option dict serves both calls.
    """
    text = bundle.encode_prompts([prompt])[0]
    return deletion_insertion_curves(
        image_encoder(bundle, geometry),
        text,
        np.asarray(image),
        np.asarray(saliency),
        steps=steps,
        baseline=baseline,
        seed=seed,
        batch_size=batch_size,
    )
