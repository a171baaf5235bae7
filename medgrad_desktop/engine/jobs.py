"""A request's journey through the engine's stages, and prompt normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medgrad_desktop.engine.api import ExplainRequest
from medgrad_desktop.engine.decoding import DecodedImage
from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_sets import most_similar

if TYPE_CHECKING:
    from medgrad_desktop.explain.evidence import Evidence

VIEW, MAPS, PREFETCH, PRECOMPUTE, LOAD = "view", "maps", "prefetch", "precompute", "load"
BACKGROUND_RENDERING = 2
"""CPU priority of prefetch's entropy and maps and of the idle radii: they wait for the view."""


@dataclass
class Job:
    """One request travelling through the stages; later stages fill the optional fields."""

    request: ExplainRequest
    kind: str
    prompt_index: int | None = 0  # None: the most similar of ``top_candidates``
    entropy_radius: int = 5
    top_candidates: tuple[int, ...] = ()
    image: DecodedImage | None = None
    model_side: int | None = None
    model_id: str = ""
    evidence_key: tuple | None = None
    evidence: Evidence | None = None

    @property
    def id(self) -> int:
        return self.request.request_id

    @property
    def path(self) -> Path:
        return self.request.path

    def chosen_prompt(self) -> int:
        """The prompt whose maps are rendered: the requested one, or (following the top
        class) the most similar candidate, once the evidence is known."""
        if self.prompt_index is not None:
            return self.prompt_index
        return most_similar(self.evidence.similarity, self.top_candidates)


def normalise_prompts(prompts: Sequence[str | Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """Prompts as ensembles of texts; raises ``PromptSetError`` for an empty list or text."""
    groups = tuple((p,) if isinstance(p, str) else tuple(str(t) for t in p) for p in prompts)
    if not groups or any(not g or any(not t.strip() for t in g) for g in groups):
        raise PromptSetError("Every prompt needs some text, and at least one prompt is needed.")
    return groups
