"""Qt-free explanation engine: one model thread, CPU workers, byte-bounded caches.

Public API::

    from medgrad_desktop.engine import ExplainEngine, EngineListener
"""

from medgrad_desktop.engine.api import (
    DEFAULT_CACHE_BYTES,
    DISPLAY_MAX_SIDE,
    ENTROPY_RADII,
    EngineListener,
    ExplainRequest,
    LoadedImage,
    MapsResult,
    ModelInfo,
)
from medgrad_desktop.engine.cache import ByteLRUCache
from medgrad_desktop.engine.engine import ExplainEngine

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "DISPLAY_MAX_SIDE",
    "ENTROPY_RADII",
    "ByteLRUCache",
    "EngineListener",
    "ExplainEngine",
    "ExplainRequest",
    "LoadedImage",
    "MapsResult",
    "ModelInfo",
]
