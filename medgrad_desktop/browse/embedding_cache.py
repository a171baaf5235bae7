"""Image embeddings cached on disk per (model id, image content hash), in one SQLite file in
the user data directory; a second table remembers the content hash of each file by its size
and modification time, so reopening a folder reads nothing but the cache."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from medgrad_desktop.paths import user_subdir

log = logging.getLogger(__name__)

CACHE_FILE_NAME = "embeddings.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, content_hash)
);
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL
);
"""


def file_content_hash(path: Path) -> str:
    """A short hash of the file's bytes (the same image copied elsewhere hashes the same)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_cache_path() -> Path:
    return user_subdir("cache") / CACHE_FILE_NAME


class EmbeddingCache:
    """Thread-safe store of float32 embedding vectors. A damaged cache file is set aside and
    started afresh (it only holds things that can be recomputed)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self._lock = threading.Lock()
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as error:
            log.warning("Embedding cache %s is damaged (%r); starting a new one", self.path, error)
            self.path.replace(self.path.with_suffix(".damaged"))
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.executescript(_SCHEMA)
        return db

    def content_hash(self, path: Path) -> str:
        """The file's content hash, from the table when size and mtime are unchanged."""
        stat = os.stat(path)
        key = str(Path(path).resolve())
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns, content_hash FROM file_hashes WHERE path = ?", (key,)
            ).fetchone()
        if row is not None and row[0] == stat.st_size and row[1] == stat.st_mtime_ns:
            return row[2]
        digest = file_content_hash(path)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)",
                (key, stat.st_size, stat.st_mtime_ns, digest),
            )
        return digest

    def get_many(self, model_id: str, hashes: list[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``hashes`` for ``model_id``."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    "SELECT content_hash, vector FROM embeddings "
                    f"WHERE model_id = ? AND content_hash IN ({marks})",
                    (model_id, *chunk),
                ).fetchall()
            found.update((h, np.frombuffer(blob, dtype=np.float32).copy()) for h, blob in rows)
        return found

    def put_many(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [
            (model_id, h, np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for h, v in vectors.items()
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def count(self, model_id: str) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,)
            ).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
