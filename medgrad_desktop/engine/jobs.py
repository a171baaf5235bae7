"""A request's journey through the engine's stages, and prompt normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from medgrad_desktop.engine.api import ExplainRequest
from medgrad_desktop.engine.decoding import DecodedImage
from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.attribution import Evidence

VIEW, MAPS, PREFETCH, PRECOMPUTE, LOAD = "view", "maps", "prefetch", "precompute", "load"


@dataclass
class Job:
    """One request travelling through the stages; later stages fill the optional fields."""

    request: ExplainRequest
    kind: str
    prompt_index: int = 0
    entropy_radius: int = 5
    image: DecodedImage | None = None
    model_side: int | None = None
    evidence_key: tuple | None = None
    evidence: Evidence | None = None

    @property
    def id(self) -> int:
        return self.request.request_id

    @property
    def path(self) -> Path:
        return self.request.path


def normalise_prompts(prompts: Sequence[str | Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """Prompts as ensembles of texts; raises ``PromptSetError`` for an empty list or text."""
    groups = tuple((p,) if isinstance(p, str) else tuple(str(t) for t in p) for p in prompts)
    if not groups or any(not g or any(not t.strip() for t in g) for g in groups):
        raise PromptSetError("Every prompt needs some text, and at least one prompt is needed.")
    return groups
