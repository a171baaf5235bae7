"""The engine's interface, shared by the engine (worker threads) and the Qt bridge.

Everything here is Qt-free. Listener methods are called from worker threads; the Qt bridge
re-emits them as queued signals so widgets are only touched on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.method_names import METHODS

if TYPE_CHECKING:  # torch-free at import: the window opens before torch is loaded
    from medgrad_desktop.explain.evidence import Evidence

DISPLAY_MAX_SIDE = 1024
"""Images are shown (and maps rendered) with their longer side at most this many pixels."""

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
NO_MODEL_MESSAGE = "No model is open yet; open a model to see explanations."

ENTROPY_RADII = tuple(range(1, 26))
"""The entropy-window radii (model-input pixels) the slider offers; the engine precomputes the
entropy weights of the viewed image for all of them, nearest to the current radius first."""


@dataclass(frozen=True)
class ModelInfo:
    """What the status bar shows about the loaded model."""

    model_id: str
    name: str
    device: str
    image_size: int
    logit_scale: float
    description: str = ""  # what was found, e.g. "BiomedCLIP-style open_clip model: …"


@dataclass(frozen=True)
class ExplainRequest:
    """Explain one image against prompts. Each prompt is an ensemble of one or more texts whose
    embeddings are averaged (``ModelBundle.encode_prompts``). ``priority`` 0 = the view (latest
    wins, supersedes queued view requests), 1 = prefetch (runs only when no view request waits).
    ``variant`` and ``geometry`` are ``explain``'s options (part of the evidence cache key)."""

    path: Path
    prompts: tuple[tuple[str, ...], ...]
    methods: tuple[str, ...] = METHODS
    priority: int = 0
    request_id: int = 0
    variant: str = "model"
    geometry: str = "square"


@dataclass
class LoadedImage:
    """A decoded image ready to show: ``rgb`` (H, W, 3) uint8 at display size, and its hash.
    ``maps_follow``: its evidence was already known, so its maps come right after it."""

    path: Path
    rgb: np.ndarray
    content_hash: str
    original_size: tuple[int, int]  # (width, height) of the file
    maps_follow: bool = False


@dataclass
class MapsResult:
    """Display maps (H, W) float32 in [0, 1] of one prompt, per method, at display size."""

    path: Path
    prompt_index: int
    entropy_radius: int
    model_id: str = ""
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    positive: dict[str, bool] = field(default_factory=dict)


class EngineListener(Protocol):
    """Callbacks from the engine (called on worker threads)."""

    def model_loaded(self, info: ModelInfo) -> None: ...

    def image_loaded(self, request_id: int, image: LoadedImage) -> None: ...

    def evidence_ready(self, request_id: int, path: Path, evidence: Evidence) -> None: ...

    def maps_ready(self, request_id: int, result: MapsResult) -> None: ...

    def failed(self, request_id: int, path: Path | None, error: MedGradError) -> None:
        """``path`` set: that request failed (no more callbacks for it). ``path`` None: a notice
        about the engine or model (e.g. it switched to the CPU after running out of graphics
        memory, or a model could not be opened); a request it mentions goes on."""

    def queue_changed(self, pending: int) -> None:
        """``pending``: view, maps and prefetch requests not finished yet."""
