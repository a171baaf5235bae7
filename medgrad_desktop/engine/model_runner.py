"""The model side of the engine: everything that touches torch, run on the one model thread.

On a GPU one image's evidence is replayed from CUDA graphs (``engine.cuda_graphs``), captured
by ``warm_up`` right after a model loads. Out of graphics memory: free caches and split the
prompts (``engine.out_of_memory``), then move the model to the CPU and try there, telling the
user through a ``ComputeError`` notice. This module imports torch; the engine imports it on
the model thread when the first model is opened.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from medgrad_desktop.engine.api import NO_MODEL_MESSAGE, ModelInfo
from medgrad_desktop.engine.cuda_graphs import GraphedEvidence
from medgrad_desktop.engine.out_of_memory import (
    CPU_FALLBACK_MESSAGE,
    is_out_of_memory,
    move_to_cpu,
    release_accelerator_memory,
    split_on_out_of_memory,
)
from medgrad_desktop.engine.run_names import run_model_name
from medgrad_desktop.errors import ComputeError, MedGradError
from medgrad_desktop.explain.batch_evidence import autocast_dtype, compute_evidence
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.evidence import Evidence
from medgrad_desktop.explain.loading import load_model

log = logging.getLogger(__name__)

__all__ = ["CPU_FALLBACK_MESSAGE", "CPU_OOM_MESSAGE", "ModelRunner", "is_out_of_memory"]

CPU_OOM_MESSAGE = (
    "The computer ran out of memory while explaining this image; close other programs or "
    "open a smaller model."
)


def configure_model_thread() -> None:
    """Leave one core to the interface and the image workers unless the user chose a number."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def model_info(bundle: ModelBundle) -> ModelInfo:
    return ModelInfo(
        model_id=bundle.model_id,
        name=run_model_name(Path(bundle.source)) or bundle.name or "model",
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
        self.graphs = GraphedEvidence()
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
        self.graphs.clear()
        self.bundle = bundle
        return model_info(bundle)

    def warm_up(self, methods: tuple[str, ...], variant: str = "model") -> None:
        """Capture the CUDA graphs of one square image for every prompt bucket (on a GPU;
        nothing to do elsewhere). Run on the model thread when no view waits."""
        bundle = self.bundle
        if bundle is None or bundle.device.type != "cuda" or not self.graphs.graphs:
            return
        side = bundle.image_size
        pixels = torch.zeros(1, 3, side, side, device=bundle.device, dtype=bundle.dtype)
        dim = bundle.encode_text(["a"]).shape[1]
        trunk = autocast_dtype("auto", bundle.device)
        try:
            self.graphs.warm_up(bundle.vision_tower, pixels, dim, methods, variant, trunk)
        except RuntimeError as error:  # out of memory while capturing: eager stays
            log.warning("CUDA graph warm-up stopped: %r", error)
            self.graphs.clear()
            release_accelerator_memory()

    def require_bundle(self) -> ModelBundle:
        if self.bundle is None:
            raise ComputeError(NO_MODEL_MESSAGE)
        return self.bundle

    def _compute(self, images, texts: torch.Tensor, methods, options: dict) -> list[Evidence]:
        bundle = self.require_bundle()
        with self._runs_lock:
            self.runs += 1
        (image,) = images
        return [compute_evidence(bundle, image, texts, methods, **options)]

    def _move_to_cpu(self) -> ModelInfo:
        bundle = self.require_bundle()
        move_to_cpu(bundle)
        self.graphs.clear()
        self._free_memory()
        return model_info(bundle)

    def _release_memory(self) -> None:
        self._free_memory()
        release_accelerator_memory()

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
        of memory: free caches and retry with the prompts split, then move to the CPU and
        retry, calling ``notify`` with the notice and the model's new description. Raises
        ``MedGradError`` when it still cannot be computed."""
        bundle = self.require_bundle()
        options = {"variant": variant, "geometry": geometry}
        if bundle.device.type == "cuda" and self.graphs.graphs:
            options["pixel_function"] = self.graphs

        def compute(images, texts):
            return self._compute(images, texts, methods, options)

        texts = bundle.encode_prompts(list(prompts))
        try:
            (evidence,) = split_on_out_of_memory(
                compute, [image], texts, bundle.logit_scale, self._release_memory
            )
            return evidence
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            if bundle.device.type == "cpu":
                raise ComputeError(CPU_OOM_MESSAGE, repr(error)) from error
            log.warning("Out of memory on %s; moving to the CPU: %r", bundle.device, error)
        info = self._move_to_cpu()
        options.pop("pixel_function", None)
        (evidence,) = compute([image], texts.cpu())
        notify(ComputeError(CPU_FALLBACK_MESSAGE, "CUDA out of memory for one prompt"), info)
        return evidence
