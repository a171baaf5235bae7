"""``ExplainEngine``: explanations computed off the GUI thread, cached, latest request first.

One model thread owns the model (loading, text encoding, ``compute_evidence``); a small pool of
CPU workers decodes images and renders display maps. A request goes decode → evidence (cache
or model) → maps; each stage first checks that its request is still wanted, so a newer view
request supersedes older ones and a newer maps request for the same image replaces a queued one.
While the model runs, a CPU worker computes the entropy weight of the current radius; the other
radii are computed only when no request is pending. Prefetch renders the maps it will be asked
for, so a prefetched image is answered from the caches at once.
All public methods only queue work and return at once; results arrive on the listener.

Importing this module does not import torch: the model side (``model_runner``) and the map
renderer are imported on the worker threads when first needed, so the window can open first.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from medgrad_desktop.engine.api import (
    DEFAULT_CACHE_BYTES,
    ENTROPY_RADII,
    NO_MODEL_MESSAGE,
    EngineListener,
    ExplainRequest,
)
from medgrad_desktop.engine.cache import ByteLRUCache
from medgrad_desktop.engine.evidence_store import FolderStores
from medgrad_desktop.engine.jobs import (
    BACKGROUND_RENDERING,
    LOAD,
    MAPS,
    PRECOMPUTE,
    PREFETCH,
    VIEW,
    Job,
    normalise_prompts,
)
from medgrad_desktop.engine.memory import limit_heap_retention
from medgrad_desktop.engine.stages import RequestStages
from medgrad_desktop.engine.workers import LOW_PRIORITY, PriorityWorkerPool, Task
from medgrad_desktop.errors import (
    ComputeError,
    MedGradError,
    ModelLoadError,
    unexpected_errors_as,
)
from medgrad_desktop.explain.geometry import check_geometry
from medgrad_desktop.explain.method_names import METHODS, check_methods
from medgrad_desktop.explain.provenance import check_variant

if TYPE_CHECKING:
    from medgrad_desktop.engine.model_runner import ModelRunner
    from medgrad_desktop.engine.rendering import MapRenderer
    from medgrad_desktop.explain.bundle import ModelBundle

log = logging.getLogger(__name__)

MODEL_CALL = "model-call"
"""Group of ``call_on_model_thread`` tasks (kept by ``cancel_pending``)."""
EVIDENCE_CACHE_SHARE = 8
"""The evidence cache gets 1/8 of the byte budget; decoded images and maps get the rest."""


class ExplainEngine(RequestStages):
    """Qt-free explanation engine; see the module docstring. Call ``shutdown`` when done."""

    def __init__(
        self,
        listener: EngineListener,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        methods: Sequence[str] | None = None,
        precompute_radii: Iterable[int] = ENTROPY_RADII,
        cpu_workers: int | None = None,
    ) -> None:
        limit_heap_retention()
        self.listener = listener
        self.methods = check_methods(METHODS if methods is None else methods)
        self.variant = "model"
        self.geometry = "square"
        self.precompute_radii = tuple(int(r) for r in precompute_radii)
        evidence_bytes = cache_bytes // EVIDENCE_CACHE_SHARE
        self.evidence_cache = ByteLRUCache(evidence_bytes)
        self.evidence_stores = FolderStores()  # what ``precompute`` stored beside the images
        self.render_cache = ByteLRUCache(cache_bytes - evidence_bytes)
        self._lock = threading.Lock()
        self._runner_instance: ModelRunner | None = None
        self._renderer_instance: MapRenderer | None = None
        self._emit_lock = threading.RLock()
        self._closed = False
        self._ids = itertools.count(1)
        self._prompts: tuple[tuple[str, ...], ...] = ()
        self._top_candidates: tuple[int, ...] = ()
        self._current_view: int | None = None
        self._view_waiting = False  # the current view still needs the model
        self._view_rendering = False  # the current view's maps are not shown yet
        self._latest_maps: dict[Path, int] = {}
        self._prefetch_ids: set[int] = set()
        self._precompute_generation = 0
        self._idle_work: Callable[[], None] | None = None
        self._active: set[int] = set()
        self._reported_queue = 0
        self._model = PriorityWorkerPool(
            "medgrad-model",
            1,
            low_priority_allowed=lambda: not self._view_waiting,
        )
        workers = cpu_workers or min(4, max(2, (os.cpu_count() or 2) // 2))
        # prefetch's entropy and maps (and idle work) wait until the view's maps are shown
        self._cpu = PriorityWorkerPool(
            "medgrad-cpu",
            workers,
            low_priority_allowed=lambda: not self._view_rendering,
            gated_from=BACKGROUND_RENDERING,
        )

    # ----- public interface (GUI thread; never blocks on computation) -----

    @property
    def model_runs(self) -> int:
        """How many times the model was run (``compute_evidence`` calls, retries included)."""
        runner = self._runner_instance
        return runner.runs if runner is not None else 0

    @property
    def _runner(self) -> ModelRunner:
        """The model side, created (importing torch) on first use, on the model thread."""
        from medgrad_desktop.engine.model_runner import ModelRunner  # not under the lock

        with self._lock:
            if self._runner_instance is None:
                self._runner_instance = ModelRunner(free_memory=self.clear_caches)
            return self._runner_instance

    @property
    def _renderer(self) -> MapRenderer:
        from medgrad_desktop.engine.rendering import MapRenderer  # not under the lock

        with self._lock:
            if self._renderer_instance is None:
                self._renderer_instance = MapRenderer(self.render_cache)
            return self._renderer_instance

    def _require_bundle(self) -> ModelBundle:
        """The open model, or ``ComputeError`` (without importing torch when none was ever
        opened)."""
        bundle = self._bundle()
        if bundle is None:
            raise ComputeError(NO_MODEL_MESSAGE)
        return bundle

    def _bundle(self) -> ModelBundle | None:
        """The open model, or None (also while torch is still being imported)."""
        runner = self._runner_instance
        return runner.bundle if runner is not None else None

    def load_model(self, source: str | Path | ModelBundle, device: str | None = None) -> int:
        """Open a model on the model thread → ``model_loaded`` or ``failed(id, None, error)``.
        ``source``: "demo", a model folder or checkpoint, or an already loaded ``ModelBundle``."""
        request_id = self._next_id()

        def run() -> None:
            try:
                with unexpected_errors_as(ModelLoadError, "The model"):
                    info = self._runner.load(source, device)
            except MedGradError as error:
                self._emit("failed", request_id, None, error)
                return
            self._emit("model_loaded", info)
            # CUDA graphs for the viewer's single images, captured when no view waits
            warm_up = lambda: self._runner.warm_up(self.methods, self.variant)  # noqa: E731
            self._model.submit(warm_up, priority=1, group=LOAD)

        self._model.submit(run, priority=-1, group=LOAD)
        return request_id

    def set_prompts(
        self, prompts: Sequence[str | Sequence[str]], top_candidates: Sequence[int] = ()
    ) -> None:
        """The prompts (each a text or an ensemble of synonyms) used by later requests.
        ``top_candidates``: the prompts (e.g. the classes) among which ``prompt_index=None``
        picks the most similar one (all prompts when empty)."""
        normalised = normalise_prompts(prompts)
        candidates = tuple(int(i) for i in top_candidates if 0 <= int(i) < len(normalised))
        with self._lock:
            self._prompts = normalised
            self._top_candidates = candidates

    def set_options(self, variant: str | None = None, geometry: str | None = None) -> None:
        """``explain``'s ``variant`` and ``geometry`` for later requests (None: unchanged)."""
        with self._lock:
            self.variant = check_variant(variant or self.variant)
            self.geometry = check_geometry(geometry or self.geometry)

    def request_view(
        self, path: str | Path, prompt_index: int | None = 0, entropy_radius: int = 5
    ) -> int:
        """Show ``path``: ``image_loaded``, ``evidence_ready`` and ``maps_ready`` follow for the
        returned id unless a newer view request supersedes it first. ``prompt_index`` None:
        the maps of the most similar top candidate (``MapsResult.prompt_index`` says which)."""
        path = Path(path)
        job = self._new_job(path, VIEW, prompt_index, entropy_radius)
        with self._lock:
            self._current_view = job.id
            self._view_waiting = self._view_rendering = True
            self._latest_maps = {p: i for p, i in self._latest_maps.items() if p == path}
            self._precompute_generation += 1
        self._drop(
            lambda t: t.group in (VIEW, PRECOMPUTE) or (t.group == MAPS and t.job.path != path)
        )
        self._submit(self._cpu, self._decode_stage, job)
        return job.id

    def request_maps(self, path: str | Path, prompt_index: int, entropy_radius: int) -> int:
        """Maps for another prompt or radius from cached evidence (the model runs only if the
        evidence is not cached, then ``evidence_ready`` comes first). A newer call for the same
        path replaces this one while it waits."""
        path = Path(path)
        job = self._new_job(path, MAPS, prompt_index, entropy_radius)
        with self._lock:
            self._latest_maps[path] = job.id
        self._drop(lambda t: t.group == MAPS and t.job.path == path)
        self._submit(self._cpu, self._decode_stage, job)
        return job.id

    def prefetch(
        self, paths: Iterable[str | Path], prompt_index: int | None = 0, entropy_radius: int = 5
    ) -> list[int]:
        """Decode, explain and render ``paths`` for ``prompt_index`` and ``entropy_radius``
        when nothing else waits (fills the caches, no callbacks except ``queue_changed``).
        Replaces the previous prefetch list."""
        jobs = [self._new_job(Path(p), PREFETCH, prompt_index, entropy_radius) for p in paths]
        with self._lock:
            self._prefetch_ids = {job.id for job in jobs}
        self._drop(lambda t: t.group == PREFETCH)
        for job in jobs:
            self._submit(self._cpu, self._decode_stage, job)
        return [job.id for job in jobs]

    def call_on_model_thread(
        self, call: Callable[[ModelBundle], object], urgent: bool = False
    ) -> Future:
        """Run ``call(bundle)`` on the model thread; the ``Future`` holds its result or error.
        Background work (folder embeddings) waits for the viewer's requests; ``urgent`` calls
        (a quick search the user waits for) only for the requests already queued."""
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(call(self._require_bundle()))
            except BaseException as error:  # handed to the caller through the future
                future.set_exception(error)

        priority = 0 if urgent else LOW_PRIORITY
        if not self._model.submit(run, priority, MODEL_CALL, order=1 << 62):
            future.set_exception(ComputeError("The viewer is closing."))
        return future

    def cancel_pending(self) -> None:
        """Forget every queued request; a model run in progress finishes but reports nothing."""
        with self._lock:
            self._current_view = None
            self._view_waiting = self._view_rendering = False
            self._latest_maps.clear()
            self._prefetch_ids.clear()
            self._precompute_generation += 1
        self._drop(lambda t: t.group not in (LOAD, MODEL_CALL))
        self._model.wake()
        self._cpu.wake()

    def queue_length(self) -> int:
        """Requests (view, maps, prefetch) not finished yet."""
        with self._lock:
            return len(self._active)

    def clear_caches(self) -> None:
        self.evidence_cache.clear()
        self.render_cache.clear()

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Block until no work is queued or running (for tests, benchmarks and the self-test)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = deadline - time.monotonic()
            if self._cpu.wait_idle(left) and self._model.wait_idle(left) and self._cpu.is_idle():
                return True
        return False

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel all work and join the threads (at most ``timeout`` s; a model run still going
        is abandoned). No listener call happens after this returns."""
        with self._emit_lock:
            self._closed = True
        self._cpu.stop()
        self._model.stop()
        deadline = time.monotonic() + timeout
        if not (self._cpu.join(deadline) and self._model.join(deadline)):
            log.warning("Engine threads still busy after %.1f s; abandoning them.", timeout)
            return
        self.evidence_stores.close()

    # ----- bookkeeping -----

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _new_job(self, path: Path, kind: str, prompt_index: int | None = 0, radius: int = 5) -> Job:
        with self._lock:
            request = ExplainRequest(
                path,
                self._prompts,
                self.methods,
                int(kind == PREFETCH),
                next(self._ids),
                variant=self.variant,
                geometry=self.geometry,
            )
            self._active.add(request.request_id)
            candidates = self._top_candidates
        index = None if prompt_index is None else int(prompt_index)
        return Job(request, kind, index, int(radius), top_candidates=candidates)

    def _is_current(self, job: Job) -> bool:
        with self._lock:
            if self._closed:
                return False
            if job.kind == VIEW:
                return job.id == self._current_view
            if job.kind == MAPS:
                return self._latest_maps.get(job.path) == job.id
            return job.id in self._prefetch_ids

    def _finish(self, job: Job) -> None:
        with self._lock:
            self._active.discard(job.id)
        self._report_queue()
        self._run_idle_work()

    def _report_queue(self) -> None:
        with self._lock:
            pending = len(self._active)
            changed, self._reported_queue = pending != self._reported_queue, pending
        if changed:
            self._emit("queue_changed", pending)

    def _view_has_evidence(self, job: Job) -> None:
        """The current view no longer waits for the model: prefetch may run again."""
        with self._lock:
            if job.id == self._current_view:
                self._view_waiting = False
        self._model.wake()

    def _view_shown(self, job: Job) -> None:
        """The current view's maps are out (or it failed): prefetch may render again."""
        with self._lock:
            if job.id == self._current_view:
                self._view_rendering = False
        self._cpu.wake()

    def _drop(self, predicate: Callable[[Task], bool]) -> None:
        """Remove matching queued tasks and forget their jobs (the count is reported from a
        worker, so the calling GUI thread never waits for a listener callback)."""
        removed = self._cpu.cancel(predicate) + self._model.cancel(predicate)
        jobs = [task.job for task in removed if task.job is not None]
        if jobs:
            with self._lock:
                self._active.difference_update(job.id for job in jobs)
            self._cpu.submit(self._report_queue, priority=0, group=None)

    def _emit(self, name: str, *args) -> None:
        with self._emit_lock:
            if self._closed:
                return
            try:
                getattr(self.listener, name)(*args)
            except Exception:  # the listener's bug must not stop the engine; logged in full
                log.exception("The engine listener's %s callback failed", name)

    def _emit_for(self, job: Job, name: str, *args) -> None:
        if self._is_current(job):
            self._emit(name, *args)
