"""The one definition of the zero-shot probability used everywhere (CLI, exports, viewer).

A class's probability is the softmax of ``logit_scale · cosine similarity`` over the class
prompts of the prompt set only; criterion prompts are not alternatives to each other or to
the classes, so they report their similarity and no probability. When there is no prompt set
(plain prompt lists in the Python API), every prompt counts as a class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medgrad_desktop.explain.finite import require_finite


def class_probabilities(similarity, class_indices: Sequence[int], logit_scale: float) -> np.ndarray:
    """Softmax of ``logit_scale × similarity`` over the positions ``class_indices`` (float32,
    in that order); empty without classes. Raises ``ComputeError`` for non-finite input."""
    indices = list(class_indices)
    if not indices:
        return np.zeros(0, dtype=np.float32)
    logits = float(logit_scale) * np.asarray(similarity, dtype=np.float64)[indices]
    require_finite("similarity", logits)
    logits -= logits.max()
    weights = np.exp(logits)
    return (weights / weights.sum()).astype(np.float32)


def prompt_probabilities(
    similarity, class_indices: Sequence[int], logit_scale: float
) -> list[float | None]:
    """One entry per prompt: the class probability for class prompts, ``None`` for criteria."""
    indices = list(class_indices)
    values: list[float | None] = [None] * len(similarity)
    for index, value in zip(
        indices, class_probabilities(similarity, indices, logit_scale), strict=True
    ):
        values[index] = float(value)
    return values
