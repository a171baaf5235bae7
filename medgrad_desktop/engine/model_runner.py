"""The model side of the engine: everything that touches torch, run on the one model thread.

Out of graphics memory: free caches, try again once, then move the model to the CPU and try
there, telling the user through a ``ComputeError`` notice. This module imports torch; the
engine imports it on the model thread when the first model is opened.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from medgrad_desktop.engine.api import ModelInfo
from medgrad_desktop.errors import ComputeError, MedGradError
from medgrad_desktop.explain.attribution import Evidence, compute_evidence
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.loading import load_model

log = logging.getLogger(__name__)

CPU_FALLBACK_MESSAGE = (
    "The graphics card ran out of memory, so MedGrad switched to the processor (CPU); "
    "explanations will be slower."
)
CPU_OOM_MESSAGE = (
    "The computer ran out of memory while explaining this image; close other programs or "
    "open a smaller model."
)


def configure_model_thread() -> None:
    """Leave one core to the interface and the image workers unless the user chose a number."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA (or other accelerator) out-of-memory, whichever way torch reports it."""
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
    )


def model_info(bundle: ModelBundle) -> ModelInfo:
    return ModelInfo(
        model_id=bundle.model_id,
        name=bundle.name or Path(bundle.source).name or "model",
        device=str(bundle.device),
        image_size=bundle.image_size,
        logit_scale=bundle.logit_scale,
        description=bundle.description,
    )


class ModelRunner:
    """Owns the ``ModelBundle``. ``evidence`` and ``load`` must run on the model thread;
    ``bundle`` may be read elsewhere for its plain attributes (id, image size)."""

    def __init__(self, free_memory: Callable[[], None]) -> None:
        self.bundle: ModelBundle | None = None
        self.runs = 0
        self._thread_configured = False
        self._free_memory = free_memory
        self._runs_lock = threading.Lock()

    def load(self, source: str | Path | ModelBundle, device: str | None) -> ModelInfo:
        """Open a model (raises ``ModelLoadError``), or take an already loaded ``ModelBundle``
        as it is (``device`` is then ignored); it replaces the current one only on success."""
        if not self._thread_configured:
            configure_model_thread()
            self._thread_configured = True
        bundle = source if isinstance(source, ModelBundle) else load_model(source, device)
        self.bundle = bundle
        return model_info(bundle)

    def require_bundle(self) -> ModelBundle:
        if self.bundle is None:
            raise ComputeError("No model is open yet; open a model to see explanations.")
        return self.bundle

    def _compute(
        self, image: np.ndarray, prompts: tuple, methods: tuple[str, ...], options: dict
    ) -> Evidence:
        bundle = self.require_bundle()
        with self._runs_lock:
            self.runs += 1
        texts = bundle.encode_prompts(list(prompts))
        return compute_evidence(bundle, image, texts, methods, **options)

    def _move_to_cpu(self) -> ModelInfo:
        bundle = self.require_bundle()
        bundle.model.to("cpu")
        bundle.device = torch.device("cpu")
        bundle._text_cache.clear()  # cached text embeddings live on the old device
        self._free_memory()
        return model_info(bundle)

    def _release_accelerator_memory(self) -> None:
        self._free_memory()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def evidence(
        self,
        image: np.ndarray,
        prompts: tuple,
        methods: tuple[str, ...],
        notify: Callable[[MedGradError, ModelInfo], None],
        variant: str = "model",
        geometry: str = "square",
    ) -> Evidence:
        """Run the model on ``image`` (uint8, already sized for ``geometry``). On running out
        of memory: free caches and retry once, then move to the CPU and retry, calling
        ``notify`` with the notice and the model's new description. Raises ``MedGradError``
        when it still cannot be computed."""
        options = {"variant": variant, "geometry": geometry}
        try:
            return self._compute(image, prompts, methods, options)
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            log.warning(
                "Out of memory on %s; freeing caches and retrying: %s",
                self.require_bundle().device,
                error,
            )
        self._release_accelerator_memory()
        try:
            return self._compute(image, prompts, methods, options)
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            if self.require_bundle().device.type == "cpu":
                raise ComputeError(CPU_OOM_MESSAGE, repr(error)) from error
            log.warning(
                "Out of memory again on %s; moving the model to the CPU: %s",
                self.require_bundle().device,
                error,
            )
        info = self._move_to_cpu()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        evidence = self._compute(image, prompts, methods, options)
        notify(ComputeError(CPU_FALLBACK_MESSAGE, "CUDA out of memory twice"), info)
        return evidence
