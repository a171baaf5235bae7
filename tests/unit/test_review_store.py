"""RatingStore: durability settings, audit log, schema versions, faults (real SQLite files)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import schema
from medgrad_desktop.review.store import RatingStore


def _add(store, case="c1", method="medgrad", score=3, reader="r1", **display):
    return store.add_rating(
        reader=reader, case=case, prompt="a melanoma", method=method, score=score, **display
    )


def test_pragmas_and_ratings_roundtrip(tmp_path):
    path = tmp_path / "s.mgsession"
    with RatingStore.open(path, study="derm-2026") as store:
        rid = _add(
            store,
            panel="B",
            flag_wrong_region=True,
            comment="edge only",
            opacity=0.4,
            colormap="inferno",
            entropy_radius=3,
            model_id="m1",
            seconds_spent=4.5,
        )
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with RatingStore.open(path) as store:
        assert store.study == "derm-2026"
        (rating,) = store.ratings()
    assert rating["id"] == rid
    assert (rating["reader"], rating["case"], rating["method"], rating["score"]) == (
        "r1",
        "c1",
        "medgrad",
        3,
    )
    assert rating["panel"] == "B" and rating["flag_wrong_region"] is True
    assert rating["opacity"] == 0.4 and rating["entropy_radius"] == 3
    assert rating["created_at"].endswith("+00:00")


def test_audit_triggers_refuse_update_and_delete(tmp_path):
    path = tmp_path / "s.mgsession"
    with RatingStore.open(path) as store:
        _add(store)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET score = 5")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    conn.close()
    with RatingStore.open(path) as store:
        assert store.ratings()[0]["score"] == 3


def test_edit_replaces_and_is_audited(tmp_path):
    with RatingStore.open(tmp_path / "s.mgsession") as store:
        first = _add(store, score=2)
        second = _add(store, score=5)
        _add(store, method="gradcam", score=1)
        ratings = store.ratings()
        assert [r["score"] for r in ratings] == [1, 5]
        assert ratings[1]["replaces"] == first and ratings[1]["id"] == second
        assert [e["action"] for e in store.audit_log()] == ["add", "edit", "add"]
        assert store.replay_audit() == ratings


def test_edit_refused_when_session_forbids(tmp_path):
    with RatingStore.open(tmp_path / "s.mgsession") as store:
        store.set_meta({"allow_edits": "0"})
        _add(store, score=2)
        with pytest.raises(SessionError, match="does not allow changes"):
            _add(store, score=4)
        assert [r["score"] for r in store.ratings()] == [2]
        assert len(store.audit_log()) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"score": 6}, "whole number"),
        ({"score": 0}, "whole number"),
        ({"method": "lime"}, "not an explanation method"),
        ({"case": " "}, "no case"),
    ],
)
def test_bad_values_refused(tmp_path, kwargs, match):
    with RatingStore.open(tmp_path / "s.mgsession") as store:
        with pytest.raises(SessionError, match=match):
            _add(store, **kwargs)
        assert store.ratings() == []


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "s.mgsession"
    RatingStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(SessionError, match="newer version"):
        RatingStore.open(path)


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "s.mgsession"
    with RatingStore.open(path) as store:
        _add(store)
    later = ("ALTER TABLE audit ADD COLUMN device TEXT",)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, later])
    with RatingStore.open(path) as store:
        assert store.schema_version == 3 and store.tamper_findings == []
        assert len(store.ratings()) == 1
        cols = [r[1] for r in store.query("PRAGMA table_info(audit)")]
        assert "device" in cols


def test_study_fixed_at_creation(tmp_path):
    path = tmp_path / "s.mgsession"
    RatingStore.open(path, study="A").close()
    with pytest.raises(SessionError, match="belongs to the study 'A'"):
        RatingStore.open(path, study="B")


def test_not_a_session_file(tmp_path):
    text = tmp_path / "notes.mgsession"
    text.write_text("hello, this is not sqlite" * 100)
    with pytest.raises(SessionError, match="not a rating session"):
        RatingStore.open(text)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(SessionError, match="not a MedGrad rating session"):
        RatingStore.open(other)


def test_read_only_file_refused_nothing_saved(tmp_path):
    path = tmp_path / "s.mgsession"
    with RatingStore.open(path) as store:
        _add(store)
    os.chmod(path, 0o444)
    try:
        with pytest.raises(SessionError, match="read-only"):
            RatingStore.open(path)
        with RatingStore.open(path, read_only=True) as store:
            assert len(store.ratings()) == 1
    finally:
        os.chmod(path, 0o644)


def test_sqlite_readonly_error_becomes_session_error(tmp_path):
    path = tmp_path / "s.mgsession"
    RatingStore.open(path).close()
    with RatingStore.open(path, read_only=True) as store:
        store.read_only = False  # bypass the early check: let SQLite itself refuse the write
        with pytest.raises(SessionError, match="read-only"):
            _add(store)
    with RatingStore.open(path) as store:
        assert store.ratings() == [] and store.audit_log() == []


def test_disk_full_reported_and_not_saved(tmp_path):
    with RatingStore.open(tmp_path / "s.mgsession") as store:
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        saved = []
        with pytest.raises(SessionError, match="disk is full") as info:
            for i in range(10_000):
                saved.append(_add(store, case=f"case-{i:05d}", comment="x" * 200))
        assert str(info.value).startswith("Could not save the rating")
        assert [r["id"] for r in store.ratings()] == saved
        assert store.replay_audit() == store.ratings()


def test_two_instances_share_one_file(tmp_path):
    path = tmp_path / "s.mgsession"
    first, second = RatingStore.open(path), RatingStore.open(path)
    try:
        for i in range(5):
            _add(first, case=f"a{i}")
            _add(second, case=f"b{i}")
        assert first.ratings() == second.ratings()
        assert len(first.ratings()) == 10
    finally:
        first.close()
        second.close()


def _hold_write_lock(path, seconds, started):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def test_second_writer_waits_for_the_lock(tmp_path):
    path = tmp_path / "s.mgsession"
    RatingStore.open(path).close()
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.3, started))
    holder.start()
    started.wait()
    with RatingStore.open(path, busy_timeout_s=5) as store:
        t0 = time.monotonic()
        _add(store)
        waited = time.monotonic() - t0
        assert len(store.ratings()) == 1
    holder.join()
    assert waited > 0.1


def test_writer_refused_cleanly_when_lock_held_too_long(tmp_path):
    path = tmp_path / "s.mgsession"
    RatingStore.open(path).close()
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.0, started))
    holder.start()
    started.wait()
    with (
        RatingStore.open(path, busy_timeout_s=0.2) as store,
        pytest.raises(SessionError, match="in use by another window"),
    ):
        _add(store)
    holder.join()
    with RatingStore.open(path) as store:
        assert store.ratings() == []
