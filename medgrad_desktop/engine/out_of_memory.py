"""Graphics-memory exhaustion: split the work and retry, then the caller moves to the CPU.

``split_on_out_of_memory`` runs ``compute(images, texts)``; when the accelerator runs out of
memory it frees what it can and retries the two halves of the batch, down to one image, then
the two halves of the prompts, down to one prompt. Only when one image with one prompt does not
fit does the error reach the caller, which moves the model to the CPU (``move_to_cpu``) and
tells the user (``CPU_FALLBACK_MESSAGE``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

import numpy as np
import torch

from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.evidence import Evidence
from medgrad_desktop.explain.zero_shot import class_probabilities

log = logging.getLogger(__name__)

CPU_FALLBACK_MESSAGE = (
    "The graphics card ran out of memory, so MedGrad switched to the processor (CPU); "
    "explanations will be slower."
)

Compute = Callable[[Sequence, torch.Tensor], list[Evidence]]


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA (or other accelerator) out-of-memory, whichever way torch reports it."""
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
    )


def release_accelerator_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def join_prompt_halves(first: Evidence, second: Evidence, logit_scale: float) -> Evidence:
    """One image's evidence for prompts A then B from its evidence for A and for B; the
    probabilities are recomputed over all prompts (``class_probabilities``)."""
    similarity = np.concatenate([first.similarity, second.similarity])
    return dataclasses.replace(
        first,
        similarity=similarity,
        probability=class_probabilities(similarity, range(len(similarity)), logit_scale),
        patch_maps={
            method: np.concatenate([maps, second.patch_maps[method]])
            for method, maps in first.patch_maps.items()
        },
    )


def split_on_out_of_memory(
    compute: Compute,
    images: Sequence,
    texts: torch.Tensor,
    logit_scale: float,
    release: Callable[[], None] = release_accelerator_memory,
) -> list[Evidence]:
    """``compute(images, texts)``, splitting the batch, then the prompts, on out-of-memory
    errors (see the module docstring). Re-raises the error when one image and one prompt do
    not fit; other errors pass through at once."""
    try:
        return compute(images, texts)
    except RuntimeError as error:
        if not is_out_of_memory(error) or (len(images) == 1 and len(texts) == 1):
            raise
        log.warning("Out of memory with %d images × %d prompts; splitting", len(images), len(texts))
    release()
    if len(images) > 1:
        middle = len(images) // 2
        return [
            *split_on_out_of_memory(compute, images[:middle], texts, logit_scale, release),
            *split_on_out_of_memory(compute, images[middle:], texts, logit_scale, release),
        ]
    middle = len(texts) // 2
    first = split_on_out_of_memory(compute, images, texts[:middle], logit_scale, release)
    second = split_on_out_of_memory(compute, images, texts[middle:], logit_scale, release)
    return [join_prompt_halves(a, b, logit_scale) for a, b in zip(first, second, strict=True)]


def move_to_cpu(bundle: ModelBundle) -> None:
    """Move the model to the CPU after the graphics card could not hold even one image."""
    bundle.model.to("cpu")
    bundle.device = torch.device("cpu")
    bundle._text_cache.clear()  # cached text embeddings live on the old device
    release_accelerator_memory()
