"""The evidence store: precomputed evidence of a folder's images in one SQLite file.

``medgrad-desktop precompute`` writes it (``medgrad-evidence.sqlite`` in the image folder by
default); the viewer's engine reads it before running the model. One row per (model id, image
content hash, prompts, method, variant, geometry) holds the prompts' similarities and
probabilities and that method's patch map (K, gh, gw) as float32 blobs.

Why SQLite: it is in Python's standard library (nothing to install, opens on every platform),
a batch of rows is one transaction, so a killed precompute leaves only whole entries and simply
resumes; in WAL mode the viewer reads while precompute writes, and several ``torchrun`` ranks
take turns at the write lock. Rows are small (a few KB), where SQLite blobs are read faster than
one file each, and one indexed lookup by key costs well under a millisecond. LMDB needs a
dependency and a fixed map size; zarr suits large chunked arrays rather than millions of small
keyed records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medgrad_desktop.errors import ComputeError
from medgrad_desktop.explain.evidence import Evidence

log = logging.getLogger(__name__)

STORE_NAME = "medgrad-evidence.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompt_sets (prompts_hash TEXT PRIMARY KEY, prompts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    name TEXT NOT NULL PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    image_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    model_id TEXT NOT NULL, image_hash TEXT NOT NULL, prompts_hash TEXT NOT NULL,
    method TEXT NOT NULL, variant TEXT NOT NULL, geometry TEXT NOT NULL,
    grid_h INTEGER NOT NULL, grid_w INTEGER NOT NULL,
    similarity BLOB NOT NULL, probability BLOB NOT NULL, patch_map BLOB NOT NULL,
    PRIMARY KEY (model_id, prompts_hash, variant, geometry, image_hash, method)
) WITHOUT ROWID;
"""


def prompts_hash(prompts: Sequence[Sequence[str]]) -> str:
    """A stable hash of a prompt list (each prompt an ensemble of texts)."""
    text = json.dumps([list(group) for group in prompts], ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class EvidenceSetting:
    """Everything but the image that evidence depends on: one precompute run's setting."""

    model_id: str
    prompts: tuple[tuple[str, ...], ...]
    methods: tuple[str, ...]
    variant: str = "model"
    geometry: str = "square"

    @property
    def prompts_hash(self) -> str:
        return prompts_hash(self.prompts)

    @property
    def group(self) -> tuple[str, str, str, str]:
        return (self.model_id, self.prompts_hash, self.variant, self.geometry)


@dataclass(frozen=True)
class FileRecord:
    """An image file as precompute saw it: name relative to the folder, size, mtime, hash."""

    name: str
    size: int
    mtime_ns: int
    image_hash: str


def _blob(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=np.float32).tobytes()


def _array(blob: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).reshape(shape).copy()


class EvidenceStore:
    """One evidence file. ``writable=False`` opens an existing file read-only (the viewer);
    ``writable=True`` creates it if needed (precompute). Safe to share between threads."""

    def __init__(self, path: str | Path, writable: bool = False) -> None:
        self.path = Path(path)
        self.writable = writable
        self._lock = threading.Lock()
        try:
            if writable:
                self._db = sqlite3.connect(
                    self.path,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    check_same_thread=False,
                    isolation_level=None,
                )
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            else:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._check_version()
        except sqlite3.Error as exc:
            raise ComputeError(
                f"The evidence file {self.path.name} cannot be opened; it may be damaged or "
                "in a folder you cannot write to.",
                f"{exc!r} on {self.path}",
            ) from exc

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or int(row[0]) > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"unsupported evidence schema version {row}")

    def close(self) -> None:
        """Close. The last writer folds the write-ahead log back into the file, so the file
        is whole on its own and opens read-only even in a folder nobody may write to."""
        with self._lock:
            if self.writable:
                try:  # fails at once while other ranks still write; the last one folds it
                    self._db.execute("PRAGMA busy_timeout=0")
                    self._db.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.Error as exc:  # another process still has it open
                    log.info("Evidence store stays in WAL mode for now: %r", exc)
            self._db.close()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- reading -----

    def get(self, setting: EvidenceSetting, image_hash: str) -> Evidence | None:
        """The stored evidence of one image, or None unless every method of ``setting`` is
        stored."""
        with self._lock:
            rows = self._db.execute(
                "SELECT method, grid_h, grid_w, similarity, probability, patch_map FROM evidence"
                " WHERE model_id = ? AND prompts_hash = ? AND variant = ? AND geometry = ?"
                " AND image_hash = ?",
                (*setting.group, image_hash),
            ).fetchall()
        by_method = {row[0]: row for row in rows}
        if not rows or any(method not in by_method for method in setting.methods):
            return None
        first = by_method[setting.methods[0]]
        prompts = len(first[3]) // 4
        return Evidence(
            similarity=_array(first[3], (prompts,)),
            probability=_array(first[4], (prompts,)),
            patch_maps={
                method: _array(by_method[method][5], (prompts, *by_method[method][1:3]))
                for method in setting.methods
            },
            variant=setting.variant,
            geometry=setting.geometry,
        )

    def complete_images(self, setting: EvidenceSetting) -> set[str]:
        """Content hashes of the images whose evidence for every method of ``setting`` is
        stored."""
        marks = ",".join("?" * len(setting.methods))
        with self._lock:
            rows = self._db.execute(
                "SELECT image_hash FROM evidence WHERE model_id = ? AND prompts_hash = ?"
                f" AND variant = ? AND geometry = ? AND method IN ({marks})"
                " GROUP BY image_hash HAVING COUNT(*) = ?",
                (*setting.group, *setting.methods, len(setting.methods)),
            ).fetchall()
        return {row[0] for row in rows}

    def files(self) -> dict[str, FileRecord]:
        """The files precompute has hashed, by name."""
        with self._lock:
            rows = self._db.execute("SELECT name, size, mtime_ns, image_hash FROM files")
            return {row[0]: FileRecord(*row) for row in rows.fetchall()}

    def count(self) -> int:
        """Stored rows (one per image and method)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0])

    # ----- writing -----

    def put_many(
        self,
        setting: EvidenceSetting,
        items: Iterable[tuple[FileRecord, Evidence]],
    ) -> None:
        """Store a batch of images' evidence in one transaction (all or nothing)."""
        rows, files = [], []
        for record, evidence in items:
            files.append((record.name, record.size, record.mtime_ns, record.image_hash))
            for method in setting.methods:
                patch = evidence.patch_maps[method]
                rows.append(
                    (
                        setting.model_id,
                        record.image_hash,
                        setting.prompts_hash,
                        method,
                        setting.variant,
                        setting.geometry,
                        int(patch.shape[1]),
                        int(patch.shape[2]),
                        _blob(evidence.similarity),
                        _blob(evidence.probability),
                        _blob(patch),
                    )
                )
        prompts = json.dumps([list(g) for g in setting.prompts], ensure_ascii=False)
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute(
                        "INSERT OR IGNORE INTO prompt_sets VALUES (?, ?)",
                        (setting.prompts_hash, prompts),
                    )
                    self._db.executemany(
                        "INSERT OR REPLACE INTO evidence VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows
                    )
                    self._db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?)", files)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise ComputeError(
                f"The evidence file {self.path.name} could not be written (the disk may be "
                "full or the file read-only).",
                f"{exc!r} on {self.path}",
            ) from exc


class FolderStores:
    """The viewer's side: the evidence file next to each image, opened when first needed.
    A missing or unreadable file means "not precomputed" (the model computes as usual)."""

    def __init__(self) -> None:
        self._stores: dict[Path, EvidenceStore | None] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def _store(self, folder: Path) -> EvidenceStore | None:
        path = folder / STORE_NAME
        with self._lock:
            store = self._stores.get(folder)
            if store is None and path.is_file():  # also when precompute made it meanwhile
                try:
                    store = EvidenceStore(path)
                except ComputeError as error:
                    log.warning("Ignoring the evidence file %s: %s", path, error.details)
                self._stores[folder] = store
            return store

    def get(self, image_path: Path, setting: EvidenceSetting, image_hash: str) -> Evidence | None:
        store = self._store(Path(image_path).parent)
        if store is None:
            return None
        try:
            evidence = store.get(setting, image_hash)
        except sqlite3.Error as exc:
            log.warning("Reading the evidence file %s failed: %r", store.path, exc)
            return None
        if evidence is not None:
            self.hits += 1
        return evidence

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                if store is not None:
                    store.close()
            self._stores.clear()
