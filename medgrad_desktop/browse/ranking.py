"""Rank a folder by cosine similarity to a text query or to one of its images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medgrad_desktop.browse.folder_embeddings import FolderEmbeddings
from medgrad_desktop.errors import PromptSetError


@dataclass(frozen=True)
class Ranked:
    """One image of a ranking: its name (relative to the folder) and cosine score."""

    name: str
    score: float


def cosine_scores(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``vectors`` (N, D) with ``query`` (D,)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
    return (vectors @ query) / np.where(norms > 0, norms, 1.0)


def ranked_order(scores: np.ndarray) -> np.ndarray:
    """Row indices best first; equal scores keep the folder order."""
    return np.argsort(-np.asarray(scores), kind="stable")


def rank(embeddings: FolderEmbeddings, query: np.ndarray, top: int | None = None) -> list[Ranked]:
    """The folder's images ranked by cosine with ``query``; the first ``top`` if given."""
    scores = cosine_scores(embeddings.vectors, query)
    order = ranked_order(scores)[:top]
    return [Ranked(embeddings.names[i], float(scores[i])) for i in order]


def text_embedding(bundle, query: str | Sequence[str]) -> np.ndarray:
    """The embedding (D,) of a free-text query, or of a prompt's synonym ensemble."""
    texts = [query] if isinstance(query, str) else list(query)
    texts = [str(t).strip() for t in texts]
    if not texts or not all(texts):
        raise PromptSetError("Please type some words to search for.")
    return bundle.encode_prompts([texts])[0].cpu().numpy()


def rank_by_text(
    bundle, embeddings: FolderEmbeddings, query: str | Sequence[str], top: int | None = None
) -> list[Ranked]:
    """Images ranked by similarity to a text (or an ensemble of synonym texts)."""
    return rank(embeddings, text_embedding(bundle, query), top)


def rank_similar(embeddings: FolderEmbeddings, name: str, top: int | None = None) -> list[Ranked]:
    """Images ranked by similarity to the image ``name`` of the same folder (itself first)."""
    return rank(embeddings, embeddings.vectors[embeddings.row_of(name)], top)
