"""The stages of an ``ExplainEngine`` request — decode → evidence (cache, folder store or
model) → maps — and the idle-priority entropy weights for the radius slider.

``RequestStages`` is a mixin of ``ExplainEngine`` (``engine.py``), which owns the request
bookkeeping it uses: ``_is_current``, ``_emit_for``, ``_finish``, ``_view_has_evidence``,
``_view_shown``, the caches, the two worker pools and the lock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from medgrad_desktop.engine.decoding import DecodedImage, decode_image, file_key
from medgrad_desktop.engine.evidence_store import EvidenceSetting
from medgrad_desktop.engine.jobs import BACKGROUND_RENDERING, PRECOMPUTE, PREFETCH, VIEW, Job
from medgrad_desktop.engine.workers import PriorityWorkerPool
from medgrad_desktop.errors import ComputeError, MedGradError

if TYPE_CHECKING:
    from medgrad_desktop.engine.api import ExplainRequest, ModelInfo
    from medgrad_desktop.explain.bundle import ModelBundle
    from medgrad_desktop.explain.evidence import Evidence

log = logging.getLogger(__name__)


class RequestStages:
    """Decode, model, entropy and maps stages of a request (see the module docstring)."""

    def _submit(
        self,
        pool: PriorityWorkerPool,
        stage: Callable[[Job], None],
        job: Job,
        priority: int | None = None,
    ) -> None:
        """Queue the next stage of ``job`` (prefetch after views; older requests first)."""
        priority = job.request.priority if priority is None else priority
        pool.submit(lambda: self._stage(job, stage), priority, job.kind, job, order=job.id)

    def _submit_rendering(self, stage: Callable[[Job], None], job: Job) -> None:
        """Queue a CPU-heavy stage; a prefetch's waits until the view's maps are shown (on two
        cores it would compete with them)."""
        background = job.kind == PREFETCH
        self._submit(self._cpu, stage, job, BACKGROUND_RENDERING if background else None)

    def _stage(self, job: Job, body: Callable[[Job], None]) -> None:
        """Run one stage of ``job`` if it is still wanted, turning errors into ``failed``."""
        if not self._is_current(job):
            self._finish(job)
            return
        self._report_queue()
        try:
            body(job)
        except MedGradError as error:
            self._fail(job, error)
        except Exception as error:  # an unexpected bug: tell the user plainly, log everything
            log.exception("Explaining %s failed unexpectedly", job.path)
            self._fail(
                job,
                ComputeError(
                    "The explanation could not be computed because of an unexpected error.",
                    repr(error),
                ),
            )

    def _fail(self, job: Job, error: MedGradError) -> None:
        log.info("Request %d for %s failed: %s (%s)", job.id, job.path, error, error.details)
        if job.kind != PREFETCH:
            self._emit_for(job, "failed", job.id, job.path, error)
        self._view_has_evidence(job)
        self._view_shown(job)
        self._finish(job)

    def _decoded(self, path: Path, bundle: ModelBundle | None, geometry: str) -> DecodedImage:
        key = file_key(path, bundle.image_size if bundle is not None else None, geometry)
        image = self.render_cache.get(key)
        if image is None:
            image = decode_image(path, bundle, geometry)
            image.display.flags.writeable = False
            self.render_cache.put(key, image)
        return image

    @staticmethod
    def _evidence_key(bundle: ModelBundle, image: DecodedImage, request: ExplainRequest) -> tuple:
        return (
            "evidence",
            bundle.model_id,
            image.content_hash,
            request.prompts,
            request.methods,
            request.variant,
            request.geometry,
        )

    def _known_evidence(self, bundle: ModelBundle, job: Job) -> Evidence | None:
        """Cached evidence, else the precomputed evidence in the image folder's store."""
        evidence = self.evidence_cache.get(job.evidence_key)
        if evidence is None:
            request = job.request
            setting = EvidenceSetting(
                bundle.model_id, request.prompts, request.methods, request.variant, request.geometry
            )
            evidence = self.evidence_stores.get(job.path, setting, job.image.content_hash)
            if evidence is not None:
                self.evidence_cache.put(job.evidence_key, evidence)
        return evidence

    def _decode_stage(self, job: Job) -> None:
        bundle = self._bundle()
        job.image = self._decoded(job.path, bundle, job.request.geometry)
        if bundle is not None:
            job.model_side, job.model_id = bundle.image_size, bundle.model_id
            job.evidence_key = self._evidence_key(bundle, job.image, job.request)
            job.evidence = self._known_evidence(bundle, job)
        if job.kind == VIEW:
            loaded = job.image.loaded(maps_follow=job.evidence is not None)
            self._emit_for(job, "image_loaded", job.id, loaded)
        if job.evidence is None:
            self._submit(self._model, self._model_stage, job)
            if job.model_side is not None:  # the entropy weight is ready when the model is
                self._submit_rendering(self._entropy_stage, job)
            return
        self._view_has_evidence(job)
        if job.kind == VIEW:
            self._emit_for(job, "evidence_ready", job.id, job.path, job.evidence)
        if job.kind == PREFETCH:
            self._submit_rendering(self._maps_stage, job)  # may compute an entropy weight
        else:
            self._maps_stage(job)

    def _model_stage(self, job: Job) -> None:
        bundle = self._require_bundle()
        if job.image is None or job.image.model_side != bundle.image_size:
            # decoded before this model was known
            job.image = self._decoded(job.path, bundle, job.request.geometry)
        job.model_side, job.model_id = bundle.image_size, bundle.model_id
        job.evidence_key = self._evidence_key(bundle, job.image, job.request)
        job.evidence = self._known_evidence(bundle, job)
        if job.evidence is None:
            job.evidence = self._runner.evidence(
                job.image.model_input,
                job.request.prompts,
                job.request.methods,
                notify=lambda error, info: self._device_changed(job, error, info),
                variant=job.request.variant,
                geometry=job.request.geometry,
            )
            self.evidence_cache.put(job.evidence_key, job.evidence)
        self._view_has_evidence(job)
        if job.kind != PREFETCH:
            self._emit_for(job, "evidence_ready", job.id, job.path, job.evidence)
        self._submit_rendering(self._maps_stage, job)

    def _device_changed(self, job: Job, notice: MedGradError, info: ModelInfo) -> None:
        self._emit("failed", job.id, None, notice)
        self._emit("model_loaded", info)

    def _entropy_stage(self, job: Job) -> None:
        """The current radius's entropy weight, computed while the model runs: on half the
        cores, so the filter's threads and the model's do not slow each other down (on two
        cores the maps come ~15 ms sooner than with the filter on both)."""
        if "medgrad" in job.request.methods:
            threads = max(1, (os.cpu_count() or 2) // 2)
            self._renderer.entropy(job.image, job.entropy_radius, job.model_side, threads)

    def _maps_stage(self, job: Job) -> None:
        index = job.chosen_prompt()
        result = self._renderer.render(
            job.evidence_key,
            job.evidence,
            job.image,
            index,
            job.entropy_radius,
            job.model_side,
        )
        result.model_id = job.model_id
        if job.kind != PREFETCH:
            self._emit_for(job, "maps_ready", job.id, result)
        self._view_shown(job)
        self._finish(job)
        if job.kind != PREFETCH:
            self._start_precompute(job)

    # ----- entropy weights for the slider, computed ahead at idle priority -----

    def _start_precompute(self, job: Job) -> None:
        """Compute the entropy weights of the other radii, nearest first, one at a time, and
        only while no request is pending (a key press never waits behind them)."""
        radius = job.entropy_radius
        radii = sorted(self.precompute_radii, key=lambda r: (abs(r - radius), r))
        with self._lock:
            self._precompute_generation += 1
            generation = self._precompute_generation
        self._cpu.cancel(lambda t: t.group == PRECOMPUTE)
        self._precompute_next(job.image, job.model_side, radii, generation)

    def _precompute_next(
        self, image: DecodedImage, model_side: int, radii: list[int], generation: int
    ) -> None:
        """Queue the first radius not cached yet for when the engine is idle; when done it
        queues the next (a newer view or maps request starts a new generation and stops it)."""
        while radii and self._renderer.has_entropy(image, radii[0], model_side):
            radii = radii[1:]
        if not radii:
            return

        def run() -> None:
            with self._lock:
                wanted = not self._closed and self._precompute_generation == generation
            if wanted:
                self._renderer.entropy(image, radii[0], model_side)
                self._precompute_next(image, model_side, radii[1:], generation)

        with self._lock:
            self._idle_work = run
        self._run_idle_work()

    def _run_idle_work(self) -> None:
        """Queue the waiting idle-priority task if no request is pending."""
        with self._lock:
            if self._active or self._idle_work is None:
                return
            work, self._idle_work = self._idle_work, None
        self._cpu.submit(work, priority=BACKGROUND_RENDERING, group=PRECOMPUTE)
