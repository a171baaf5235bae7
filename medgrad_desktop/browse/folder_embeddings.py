"""Image embeddings of a whole folder: batched through ``bundle.encode_image``, cached per
(model id, file content hash), with progress reports and cooperative cancellation."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medgrad_desktop.browse.embedding_cache import EmbeddingCache
from medgrad_desktop.errors import ImageLoadError, MedGradError
from medgrad_desktop.explain.images import is_image_file, list_image_names, load_image

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32
Progress = Callable[[int, int], None]
"""``progress(done, total)``: images embedded or found in the cache so far, of all."""


class EmbeddingCancelled(Exception):
    """The user stopped the embedding; what was finished stays in the cache."""


@dataclass
class FolderEmbeddings:
    """L2-normalised image embeddings of the readable images of ``folder``.

    ``names`` are paths relative to ``folder`` (POSIX separators), in listing order; row i of
    ``vectors`` (N, D) float32 belongs to ``names[i]``. ``failed`` maps unreadable images to a
    plain message."""

    folder: Path
    model_id: str
    names: list[str]
    vectors: np.ndarray
    failed: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rows = {name: row for row, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def row_of(self, name: str) -> int:
        """Row of ``name`` (raises ``KeyError`` when it has no embedding)."""
        return self._rows[name]

    def path_of(self, name: str) -> Path:
        return self.folder / name


def list_folder_images(folder: Path, include_subfolders: bool = False) -> list[str]:
    """Image names in ``folder``, and with ``include_subfolders`` those one folder down
    (``class/name.png``, the folder-per-class layout), each part in natural order."""
    folder = Path(folder)
    names = list_image_names(folder)
    if include_subfolders:
        with os.scandir(folder) as entries:
            subfolders = sorted(
                e.name for e in entries if e.is_dir() and not e.name.startswith(".")
            )
        for sub in subfolders:
            names += [f"{sub}/{name}" for name in list_image_names(folder / sub)]
    return names


def _direct(call: Callable[[], Any]) -> Any:
    return call()


def _model_input(bundle, path: Path) -> np.ndarray:
    return bundle.resize_for_model(load_image(path))


def embed_folder(
    bundle,
    folder: str | Path,
    names: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    run_model: Callable[[Callable[[], Any]], Any] = _direct,
    decode_workers: int = 2,
) -> FolderEmbeddings:
    """Embed the images ``names`` of ``folder`` (default: all images in it).

    Cached vectors are reused; the others are decoded on ``decode_workers`` threads and
    encoded ``batch_size`` at a time. ``run_model(call)`` runs a model call where the model
    lives (the GUI hands the engine's model thread; default: here). Unreadable images are
    listed in ``failed``, never abort the folder. ``should_stop()`` is checked between
    batches and raises ``EmbeddingCancelled``."""
    folder = Path(folder)
    names = list(list_folder_images(folder) if names is None else names)
    cache = cache or EmbeddingCache()
    model_id = bundle.model_id
    failed: dict[str, str] = {}
    hashes: dict[str, str] = {}
    total = len(names)
    with ThreadPoolExecutor(max(1, decode_workers), thread_name_prefix="medgrad-embed") as pool:
        outcomes = pool.map(lambda n: _hash(cache, folder / n), names)
        for name, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, MedGradError):
                failed[name] = outcome.message
            else:
                hashes[name] = outcome
        vectors = cache.get_many(model_id, list(hashes.values()))
        todo = [name for name in names if name in hashes and hashes[name] not in vectors]
        done = total - len(todo)
        if progress:
            progress(done, total)
        for start in range(0, len(todo), batch_size):
            if should_stop():
                raise EmbeddingCancelled()
            batch = todo[start : start + batch_size]
            decoded = list(pool.map(lambda n: _decode(bundle, folder / n), batch))
            ready = []
            for name, outcome in zip(batch, decoded, strict=True):
                if isinstance(outcome, np.ndarray):
                    ready.append((name, outcome))
                else:
                    failed[name] = outcome.message
            if ready:
                stack = np.stack([d for _, d in ready])
                embeds = run_model(lambda s=stack: _encode(bundle, s))
                new = {hashes[n]: vector for (n, _), vector in zip(ready, embeds, strict=True)}
                cache.put_many(model_id, new)
                vectors.update(new)
            done += len(batch)
            if progress:
                progress(done, total)
    kept = [name for name in names if name in hashes and hashes[name] in vectors]
    dim = next(iter(vectors.values())).shape[0] if vectors else 0
    matrix = np.stack([vectors[hashes[n]] for n in kept]) if kept else np.zeros((0, dim))
    return FolderEmbeddings(folder, model_id, kept, matrix.astype(np.float32), failed)


def _hash(cache: EmbeddingCache, path: Path) -> str | MedGradError:
    if not is_image_file(path):
        return ImageLoadError(f"{path.name} is not an image file.")
    try:
        return cache.content_hash(path)
    except OSError as error:
        log.info("Cannot read %s: %r", path, error)
        return ImageLoadError(f"The image {path.name} cannot be read.", repr(error))


def _decode(bundle, path: Path) -> np.ndarray | MedGradError:
    try:
        return _model_input(bundle, path)
    except ImageLoadError as error:
        log.info("Skipping %s: %s (%s)", path, error.message, error.details)
        return error


def _encode(bundle, stack: np.ndarray) -> np.ndarray:
    """(B, S, S, 3) uint8 model inputs → (B, D) float32 embeddings."""
    return bundle.encode_image(list(stack)).cpu().numpy().astype(np.float32)
