"""Single-image evidence replayed from CUDA graphs, the viewer's low-latency path on a GPU.

On a GPU most of one image's evidence time is kernel launches. ``GraphedEvidence`` is a
drop-in for ``explain.evidence.pixel_evidence`` that captures it once per (tower, methods,
variant, trunk dtype, input shape, prompt bucket) with ``torch.cuda.graphs`` and afterwards
only copies the inputs in and replays. Prompt counts are padded to the buckets 8, 16 and 32
(with copies of the last prompt) and the padding is cut off again, so a prompt-set change needs
no new capture. The engine warms the buckets up on its model thread right after a model loads.
Batches of several images, more than 32 prompts, the CPU, or a capture that fails run eagerly.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import torch

from medgrad_desktop.explain.batch_evidence import pixel_evidence

log = logging.getLogger(__name__)

PROMPT_BUCKETS = (8, 16, 32)
WARM_UP_RUNS = 3


def prompt_bucket(count: int) -> int | None:
    """The smallest bucket holding ``count`` prompts (None above the largest)."""
    return next((bucket for bucket in PROMPT_BUCKETS if count <= bucket), None)


def pad_prompts(texts: torch.Tensor, bucket: int) -> torch.Tensor:
    """(K, D) → (bucket, D), repeating the last prompt (any unit vector would do)."""
    extra = bucket - texts.shape[0]
    return torch.cat([texts, texts[-1:].expand(extra, -1)]) if extra else texts


def cut_to_prompts(out: dict[str, torch.Tensor], count: int) -> dict[str, torch.Tensor]:
    """Drop the padded prompts (the prompt axis is the second of every output)."""
    return {name: value[:, :count] for name, value in out.items()}


@contextlib.contextmanager
def _no_autocast_cache():
    """Autocast's weight-cast cache must be off while capturing (torch.cuda.graphs docs)."""
    previous = torch.is_autocast_cache_enabled()
    torch.set_autocast_cache_enabled(False)
    try:
        yield
    finally:
        torch.set_autocast_cache_enabled(previous)


@dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph
    pixels: torch.Tensor
    texts: torch.Tensor
    out: dict[str, torch.Tensor]

    def run(self, pixels: torch.Tensor, texts: torch.Tensor) -> dict[str, torch.Tensor]:
        self.pixels.copy_(pixels)
        self.texts.copy_(texts)
        self.graph.replay()
        return {name: value.clone() for name, value in self.out.items()}


def capture(function, pixels: torch.Tensor, texts: torch.Tensor) -> _Captured:
    """Warm ``function(pixels, texts)`` up on a side stream, then capture one call."""
    static_pixels, static_texts = pixels.clone(), texts.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with _no_autocast_cache():
        with torch.cuda.stream(stream):
            for _ in range(WARM_UP_RUNS):
                function(static_pixels, static_texts)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            out = function(static_pixels, static_texts)
    return _Captured(graph, static_pixels, static_texts, out)


class GraphedEvidence:
    """``pixel_evidence`` with one-image calls replayed from CUDA graphs (see the module
    docstring). ``graphs=False`` keeps the bucketing but runs eagerly: the same padding and
    cutting on a CPU, which is how the CPU tests check them."""

    def __init__(self, graphs: bool | None = None) -> None:
        self.graphs = torch.cuda.is_available() if graphs is None else graphs
        self._captured: dict[tuple, _Captured | None] = {}
        self.replays = 0

    def __call__(
        self,
        tower,
        pixels: torch.Tensor,
        texts: torch.Tensor,
        methods: tuple[str, ...],
        variant: str = "model",
        trunk_dtype: torch.dtype | None = None,
    ) -> dict[str, torch.Tensor]:
        count = texts.shape[0]
        bucket = prompt_bucket(count)
        usable = pixels.shape[0] == 1 and bucket is not None
        if not usable or (self.graphs and pixels.device.type != "cuda"):
            return pixel_evidence(tower, pixels, texts, methods, variant, trunk_dtype)

        def run(p, t):
            return pixel_evidence(tower, p, t, methods, variant, trunk_dtype)

        padded = pad_prompts(texts, bucket)
        if not self.graphs:
            return cut_to_prompts(run(pixels, padded), count)
        key = (id(tower), tuple(methods), variant, trunk_dtype, tuple(pixels.shape), bucket)
        if key not in self._captured:
            self._captured[key] = self._capture(run, pixels, padded)
        captured = self._captured[key]
        if captured is None:
            return run(pixels, texts)
        self.replays += 1
        return cut_to_prompts(captured.run(pixels, padded), count)

    def _capture(self, run, pixels, texts) -> _Captured | None:
        try:
            captured = capture(run, pixels, texts)
        except RuntimeError as error:  # e.g. an operation that cannot be captured
            log.warning("CUDA graph capture failed; computing eagerly: %r", error)
            return None
        log.info("Captured evidence graph: %d prompts, input %s", texts.shape[0], pixels.shape)
        return captured

    def warm_up(self, tower, pixels, dim: int, methods, variant="model", trunk_dtype=None):
        """Capture every prompt bucket for one-image inputs like ``pixels`` (model thread)."""
        for bucket in PROMPT_BUCKETS:
            texts = torch.nn.functional.normalize(
                torch.ones(bucket, dim, device=pixels.device), dim=-1
            )
            self(tower, pixels, texts, tuple(methods), variant, trunk_dtype)

    def clear(self) -> None:
        """Forget the graphs (a new model, or the model moved to another device)."""
        self._captured.clear()
