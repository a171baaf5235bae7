"""Display maps of one prompt from cached evidence, with the parts that do not change cached.

Grad-CAM and Grad-ECLIP display maps depend on (evidence, prompt) only; MedGrad-ECLIP is the
upsampled evidence of the prompt (cached) times the entropy weight of (image, radius) (cached),
min–max normalised — the same result as ``medgrad_display_maps`` with the slow parts reused, so
moving the entropy-radius slider costs one multiply and one normalisation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

import numpy as np

from medgrad_desktop.engine.api import MapsResult
from medgrad_desktop.engine.cache import ByteLRUCache
from medgrad_desktop.engine.decoding import DecodedImage
from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.attribution import Evidence
from medgrad_desktop.explain.display import display_maps, has_positive_evidence, minmax, upsample
from medgrad_desktop.explain.entropy import (
    STRIP_THREADS,
    EntropyInput,
    entropy_weight,
    prepare_entropy_input,
)
from medgrad_desktop.explain.methods import get_method


def _frozen(array: np.ndarray) -> np.ndarray:
    """Mark a cached array read-only so no consumer can change what others will be given."""
    array.flags.writeable = False
    return array


class MapRenderer:
    """Renders ``MapsResult``s, keeping intermediate arrays in a byte-bounded cache."""

    def __init__(self, cache: ByteLRUCache) -> None:
        self.cache = cache
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._key_locks_guard = threading.Lock()

    def _cached(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached value, computed once even when two workers ask at the same time (the
        entropy stage and the maps stage of one request may)."""
        value = self.cache.get(key)
        if value is not None:
            return value
        with self._key_locks_guard:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            value = self.cache.get(key)
            if value is None:
                value = _frozen(compute())
                self.cache.put(key, value)
        with self._key_locks_guard:
            self._key_locks.pop(key, None)
        return value

    @staticmethod
    def _entropy_key(image: DecodedImage, radius: int, model_side: int) -> tuple:
        return ("entropy", image.content_hash, image.display.shape[:2], model_side, int(radius))

    def has_entropy(self, image: DecodedImage, radius: int, model_side: int) -> bool:
        return self._entropy_key(image, radius, model_side) in self.cache

    def entropy_input(self, image: DecodedImage) -> EntropyInput:
        """The grey work image shared by every radius of one image (cached)."""
        key = ("entropy-input", image.content_hash, image.display.shape[:2])
        value = self.cache.get(key)
        if value is None:
            value = prepare_entropy_input(image.display)
            self.cache.put(key, value)
        return value

    def entropy(
        self, image: DecodedImage, radius: int, model_side: int, threads: int = STRIP_THREADS
    ) -> np.ndarray:
        """MedGrad's entropy weight (H, W) of the display image, cached per (image, radius),
        computed on ``threads`` cores."""
        return self._cached(
            self._entropy_key(image, radius, model_side),
            lambda: entropy_weight(self.entropy_input(image), radius, model_side, threads=threads),
        )

    def render(
        self,
        evidence_key: Hashable,
        evidence: Evidence,
        image: DecodedImage,
        prompt_index: int,
        radius: int,
        model_side: int,
    ) -> MapsResult:
        """The display maps (H, W) in [0, 1] of prompt ``prompt_index`` for every method."""
        count = len(evidence.similarity)
        if not 0 <= prompt_index < count:
            raise PromptSetError(
                "The chosen prompt is not in the current prompt list.",
                f"prompt index {prompt_index}, {count} prompts",
            )
        height, width = image.display.shape[:2]
        result = MapsResult(image.path, prompt_index, int(radius))
        for method, patches in evidence.patch_maps.items():
            patch = patches[prompt_index : prompt_index + 1]
            if get_method(method).pixel_weight == "entropy":
                upsampled = self._cached(
                    ("upsampled", evidence_key, prompt_index, (height, width)),
                    lambda p=patch: upsample(p, height, width),
                )
                weight = self.entropy(image, radius, model_side)
                display = minmax(upsampled * weight[None])[0]
            else:
                display = self._cached(
                    ("display", evidence_key, method, prompt_index, (height, width)),
                    lambda p=patch: display_maps(p, height, width)[0],
                )
            result.maps[method] = display
            result.positive[method] = has_positive_evidence(display)
        return result
