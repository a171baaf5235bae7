"""The SQLite evidence store: exact round trip, every key part separates entries, whole
transactions, read-only opening, damaged files ignored by the viewer's side."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from medgrad_desktop.engine.evidence_store import (
    STORE_NAME,
    EvidenceSetting,
    EvidenceStore,
    FileRecord,
    FolderStores,
)
from medgrad_desktop.errors import ComputeError
from medgrad_desktop.explain.attribution import Evidence

METHODS = ("gradcam", "gradeclip", "medgrad")
SETTING = EvidenceSetting("model-a", (("melanoma",), ("nevus", "mole")), METHODS)


def evidence(seed: int, grid=(3, 4), prompts: int = 2) -> Evidence:
    rng = np.random.default_rng(seed)
    similarity = rng.normal(size=prompts).astype(np.float32)
    probability = np.exp(similarity) / np.exp(similarity).sum()
    maps = {m: rng.random((prompts, *grid), dtype=np.float32) for m in METHODS}
    return Evidence(similarity, probability.astype(np.float32), maps)


def record(name: str, image_hash: str) -> FileRecord:
    return FileRecord(name, 10, 20, image_hash)


def assert_same(a: Evidence, b: Evidence) -> None:
    assert np.array_equal(a.similarity, b.similarity)
    assert np.array_equal(a.probability, b.probability)
    assert a.patch_maps.keys() == b.patch_maps.keys()
    for method in a.patch_maps:
        assert np.array_equal(a.patch_maps[method], b.patch_maps[method])


def test_round_trip_is_exact_and_keyed_by_every_part(tmp_path):
    first, second = evidence(1), evidence(2, grid=(5, 2))
    with EvidenceStore(tmp_path / STORE_NAME, writable=True) as store:
        store.put_many(SETTING, [(record("a.png", "h1"), first), (record("b.png", "h2"), second)])
    store = EvidenceStore(tmp_path / STORE_NAME)  # read-only, as the viewer opens it
    assert_same(store.get(SETTING, "h1"), first)
    assert_same(store.get(SETTING, "h2"), second)  # non-square grid kept
    assert store.get(SETTING, "h3") is None
    others = [
        EvidenceSetting("model-b", SETTING.prompts, METHODS),
        EvidenceSetting("model-a", (("melanoma",), ("nevus",)), METHODS),
        EvidenceSetting("model-a", SETTING.prompts, METHODS, variant="zhao2024"),
        EvidenceSetting("model-a", SETTING.prompts, METHODS, geometry="aspect"),
    ]
    assert all(store.get(other, "h1") is None for other in others)
    only_cam = EvidenceSetting("model-a", SETTING.prompts, ("gradcam",))
    assert list(store.get(only_cam, "h1").patch_maps) == ["gradcam"]
    assert store.complete_images(SETTING) == {"h1", "h2"}
    assert store.files()["b.png"] == record("b.png", "h2")
    assert store.count() == 6
    with pytest.raises(sqlite3.OperationalError):  # read-only really is read-only
        store._db.execute("DELETE FROM evidence")
    store.close()


def test_missing_method_means_not_stored(tmp_path):
    partial = evidence(3)
    del partial.patch_maps["medgrad"]
    two = EvidenceSetting(SETTING.model_id, SETTING.prompts, ("gradcam", "gradeclip"))
    with EvidenceStore(tmp_path / STORE_NAME, writable=True) as store:
        store.put_many(two, [(record("a.png", "h1"), partial)])
        assert store.get(SETTING, "h1") is None
        assert store.complete_images(SETTING) == set()
        assert store.complete_images(two) == {"h1"}


def test_a_failed_batch_stores_nothing(tmp_path):
    with EvidenceStore(tmp_path / STORE_NAME, writable=True) as store:
        store.put_many(SETTING, [(record("a.png", "h1"), evidence(1))])
        broken = FileRecord(None, 1, 1, "h3")  # NOT NULL fails after the evidence rows
        with pytest.raises(ComputeError, match="could not be written"):
            store.put_many(SETTING, [(record("b.png", "h2"), evidence(2)), (broken, evidence(3))])
        assert store.count() == 3
        assert store.complete_images(SETTING) == {"h1"}
        assert set(store.files()) == {"a.png"}


def test_closed_store_is_one_self_contained_file(tmp_path):
    """After precompute closes it, the file needs no -wal/-shm companions (rollback-journal
    header), so the viewer can open it read-only in a folder it may not write to."""
    folder = tmp_path / "archive"
    folder.mkdir()
    with EvidenceStore(folder / STORE_NAME, writable=True) as store:
        store.put_many(SETTING, [(record("a.png", "h1"), evidence(1))])
        assert (folder / (STORE_NAME + "-wal")).exists()  # WAL while writing
    assert sorted(p.name for p in folder.iterdir()) == [STORE_NAME]
    assert (folder / STORE_NAME).read_bytes()[18:20] == bytes([1, 1])  # not WAL any more
    stores = FolderStores()
    assert_same(stores.get(folder / "a.png", SETTING, "h1"), evidence(1))
    assert stores.hits == 1
    stores.close()


def test_viewer_ignores_a_damaged_or_absent_store(tmp_path):
    (tmp_path / STORE_NAME).write_bytes(b"this is not a database" * 100)
    stores = FolderStores()
    assert stores.get(tmp_path / "a.png", SETTING, "h1") is None
    assert stores.get(tmp_path / "sub" / "a.png", SETTING, "h1") is None
    with pytest.raises(ComputeError, match="cannot be opened"):
        EvidenceStore(tmp_path / STORE_NAME, writable=True)


def test_viewer_sees_a_store_made_after_it_first_looked(tmp_path):
    stores = FolderStores()
    assert stores.get(tmp_path / "a.png", SETTING, "h1") is None
    with EvidenceStore(tmp_path / STORE_NAME, writable=True) as store:
        store.put_many(SETTING, [(record("a.png", "h1"), evidence(1))])
    assert_same(stores.get(tmp_path / "a.png", SETTING, "h1"), evidence(1))


def test_the_last_of_several_writers_makes_the_file_whole(tmp_path):
    """torchrun ranks share one file: a rank that finishes first leaves it in WAL mode at once
    (no waiting for the others); the last one folds the log back in."""
    path = tmp_path / STORE_NAME
    first, second = EvidenceStore(path, writable=True), EvidenceStore(path, writable=True)
    first.put_many(SETTING, [(record("a.png", "h1"), evidence(1))])
    second.put_many(SETTING, [(record("b.png", "h2"), evidence(2))])
    first.close()
    assert path.read_bytes()[18:20] == bytes([2, 2])  # still WAL: the other rank writes
    second.close()
    assert path.read_bytes()[18:20] == bytes([1, 1])
    with EvidenceStore(path) as store:
        assert store.complete_images(SETTING) == {"h1", "h2"}
