"""Single-image evidence replayed from CUDA graphs, the viewer's low-latency path on a GPU.

On a GPU most of one image's evidence time is kernel launches. ``GraphedEvidence`` captures
the pixels-in evidence function once per (input shape, methods, variant, prompt bucket) with
``torch.cuda.graphs`` and then only copies the inputs in and replays. Prompt counts are padded
to the buckets 8, 16 and 32 (with copies of the last prompt; the padding is cut off again and
the probabilities are recomputed over the real prompts), so a prompt-set change does not need a
new capture. The engine warms the buckets up on its model thread right after a model loads;
more than 32 prompts, or a capture that fails, run eagerly as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

PROMPT_BUCKETS = (8, 16, 32)
WARM_UP_RUNS = 3

PixelFunction = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]
"""(pixels (1, 3, H, W), unit texts (K, D)) → float32 tensors with the prompt axis second:
``similarity`` and ``probability`` (1, K) and one (1, K, gh, gw) map per method."""


def prompt_bucket(count: int) -> int | None:
    """The smallest bucket holding ``count`` prompts (None above the largest)."""
    return next((bucket for bucket in PROMPT_BUCKETS if count <= bucket), None)


def pad_prompts(texts: torch.Tensor, bucket: int) -> torch.Tensor:
    """(K, D) → (bucket, D), repeating the last prompt (any unit vector would do)."""
    extra = bucket - texts.shape[0]
    return torch.cat([texts, texts[-1:].expand(extra, -1)]) if extra else texts


def cut_to_prompts(out: dict[str, torch.Tensor], count: int, logit_scale: float) -> dict:
    """Drop the padded prompts and recompute the probabilities over the real ones."""
    cut = {name: value[:, :count] for name, value in out.items()}
    cut["probability"] = torch.softmax(logit_scale * cut["similarity"], dim=-1)
    return cut


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


def capture(function: PixelFunction, pixels: torch.Tensor, texts: torch.Tensor) -> _Captured:
    """Warm ``function`` up on a side stream, then capture one call as a CUDA graph."""
    static_pixels, static_texts = pixels.clone(), texts.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with _no_autocast_cache():
        with torch.cuda.stream(stream):
            for _ in range(WARM_UP_RUNS):
                function(static_pixels, static_texts)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = function(static_pixels, static_texts)
    return _Captured(graph, static_pixels, static_texts, out)


class GraphedEvidence:
    """Replays captured evidence graphs; ``__call__`` returns None when it cannot help (no
    CUDA, too many prompts, capture failed), and the caller computes eagerly.

    ``graphs=False`` keeps the bucketing but runs ``function`` eagerly: the same padding
    and cutting on a CPU, which is how the CPU tests check them.
    """

    def __init__(self, logit_scale: float, graphs: bool | None = None) -> None:
        self.logit_scale = float(logit_scale)
        self.graphs = torch.cuda.is_available() if graphs is None else graphs
        self._captured: dict[tuple, _Captured | None] = {}
        self.replays = 0

    def warm_up(self, key: tuple, function: PixelFunction, pixels, texts) -> bool:
        """Capture the graph of ``key`` (the caller's description of ``function``) for the
        bucket of ``texts``; True when it is ready."""
        bucket = prompt_bucket(texts.shape[0])
        if bucket is None:
            return False
        full_key = (*key, tuple(pixels.shape), bucket)
        if full_key not in self._captured:
            self._captured[full_key] = self._capture(function, pixels, pad_prompts(texts, bucket))
        return self._captured[full_key] is not None

    def _capture(self, function, pixels, texts) -> _Captured | None:
        if not self.graphs:
            return None
        try:
            captured = capture(function, pixels, texts)
        except RuntimeError as error:  # e.g. an operation that cannot be captured
            log.warning("CUDA graph capture failed; computing eagerly: %r", error)
            return None
        log.info("Captured evidence graph for %s prompts, input %s", texts.shape[0], pixels.shape)
        return captured

    def __call__(self, key: tuple, function: PixelFunction, pixels, texts) -> dict | None:
        """Evidence of one image from its graph (captured now if needed), or None."""
        count = texts.shape[0]
        bucket = prompt_bucket(count)
        if bucket is None:
            return None
        padded = pad_prompts(texts, bucket)
        if not self.graphs:  # eager, through the same padding (CPU tests)
            return cut_to_prompts(function(pixels, padded), count, self.logit_scale)
        if not self.warm_up(key, function, pixels, texts):
            return None
        self.replays += 1
        out = self._captured[(*key, tuple(pixels.shape), bucket)].run(pixels, padded)
        return cut_to_prompts(out, count, self.logit_scale)
