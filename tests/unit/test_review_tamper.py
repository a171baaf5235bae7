"""Tamper evidence by SQL, the hash chain, undo, schema versions, the WAL conversion and
hand-in copies, on real session files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import file_location, schema
from medgrad_desktop.review.store import RatingStore

ROOT = Path(__file__).resolve().parents[2]


def _rate(store, case="c1", method="medgrad", score=3, **display):
    return store.add_rating(
        reader="r1", case=case, prompt="melanoma", method=method, score=score, **display
    )


@pytest.fixture
def rated(tmp_path) -> Path:
    path = tmp_path / "s.mgsession"
    with RatingStore.open(path, study="t") as store:
        _rate(store, "c1", "gradcam", 2, opacity=1, entropy_radius=5.0, seconds_spent=3)
        _rate(store, "c1", "medgrad", 4, comment="=HYPERLINK(1)")
        _rate(store, "c2", "gradcam", 5)
        _rate(store, "c1", "gradcam", 3)  # an edit
        assert store.tamper_findings == [] and not store.read_only
    return path


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def _reference_chain(path: Path) -> list[str]:
    """The chain recomputed independently: SHA-256 over JSON [previous, *columns]."""
    conn = sqlite3.connect(path)
    columns = [
        "id", "action", "replaces", "reader", "case_id", "prompt", "method", "score", "panel",
        "flag_wrong_region", "comment", "opacity", "colormap", "entropy_radius", "model_id",
        "seconds_spent", "variant", "geometry", "created_at",
    ]  # fmt: skip
    rows = conn.execute(f"SELECT {', '.join(columns)}, row_hash FROM audit ORDER BY id")
    previous, expected = "0" * 64, []
    for *values, stored in rows:
        text = json.dumps([previous, *values], ensure_ascii=False, separators=(",", ":"))
        previous = hashlib.sha256(text.encode()).hexdigest()
        expected.append((previous, stored))
    conn.close()
    return expected


def test_hash_chain_matches_an_independent_reference(rated):
    chain = _reference_chain(rated)
    assert len(chain) == 4
    assert all(computed == stored for computed, stored in chain)


def test_every_rating_table_refuses_sql_edits(rated):
    conn = sqlite3.connect(rated, isolation_level=None)
    conn.execute("INSERT INTO session_case VALUES ('c1', 'c1.png', 0)")
    conn.execute("INSERT INTO case_prompt VALUES ('c1', 0, 'melanoma')")
    refused = [
        "UPDATE audit SET score = 1",
        "DELETE FROM audit",
        "UPDATE current_rating SET audit_id = 1 WHERE audit_id = 4",
        "DELETE FROM current_rating",
        "INSERT INTO current_rating VALUES ('r1', 'c9', 'melanoma', 'medgrad', 1)",
        "UPDATE session_case SET image_path = 'x'",
        "DELETE FROM case_prompt",
        "UPDATE meta SET value = 'other' WHERE key = 'study'",
        "INSERT OR REPLACE INTO meta VALUES ('study', 'other')",
        "DELETE FROM meta WHERE key = 'created_at'",
    ]
    for statement in refused:
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only|fixed|audited|newest"):
            conn.execute(statement)
            pytest.fail(f"not refused: {statement}")
    conn.close()
    with RatingStore.open(rated) as store:
        assert store.tamper_findings == [] and len(store.ratings()) == 3


@pytest.mark.parametrize(
    ("statements", "finding"),
    [
        (
            [
                "DROP TRIGGER current_rating_update",
                "UPDATE current_rating SET audit_id = 1 WHERE audit_id = 4",
            ],
            "removed: current_rating_update",
        ),
        (
            ["DROP TRIGGER audit_no_update", "UPDATE audit SET score = 5 WHERE id = 2"],
            "audit record 2 does not match its checksum chain",
        ),
        (
            ["DROP TRIGGER current_rating_delete", "DELETE FROM current_rating WHERE audit_id = 3"],
            "1 current rating(s) differ from the audit log",
        ),
        (
            [
                "INSERT INTO audit (id, action, reader, case_id, prompt, method, score, "
                "created_at, row_hash) VALUES (5, 'add', 'r1', 'c3', 'melanoma', 'medgrad', 5, "
                f"'2026-01-01T00:00:00+00:00', '{'a' * 64}')",
            ],
            "audit record 5 does not match",
        ),
        (
            [
                "CREATE TRIGGER sneaky AFTER INSERT ON audit BEGIN SELECT 1; END",
            ],
            "unknown rule(s) were added: sneaky",
        ),
    ],
)
def test_tampering_opens_read_only_with_a_warning(rated, statements, finding):
    _sql(rated, *statements)
    with RatingStore.open(rated) as store:
        assert store.read_only
        assert any(finding in f for f in store.tamper_findings), store.tamper_findings
        assert "changed outside MedGrad Desktop" in store.tamper_warning
        assert "reading only" in store.tamper_warning
        with pytest.raises(SessionError, match="reading only"):
            _rate(store, "c5")


def test_undo_is_audited_and_replayed(rated):
    with RatingStore.open(rated) as store:
        withdrawn = store.undo_last("r1", "c1")
        assert (withdrawn["method"], withdrawn["score"]) == ("gradcam", 3)  # the newest on c1
        assert [e["action"] for e in store.audit_log()] == ["add", "add", "add", "edit", "undo"]
        assert store.audit_log()[-1]["replaces"] == withdrawn["id"]
        assert {(r["case"], r["method"]) for r in store.ratings()} == {
            ("c1", "medgrad"),
            ("c2", "gradcam"),
        }
        assert store.replay_audit() == store.ratings()
        assert store.undo_last("r1", "c1")["method"] == "medgrad"
        assert store.undo_last("r1", "c1") is None
        _rate(store, "c1", "gradcam", 1)  # rated again after the undo
    with RatingStore.open(rated) as store:
        assert store.tamper_findings == []
        assert [r["score"] for r in store.ratings()] == [1, 5]
    assert all(a == b for a, b in _reference_chain(rated))


@pytest.mark.parametrize("version", ["abc", "", "2.0", "-1", "٣"])
def test_malformed_schema_version_is_a_clear_error(rated, version):
    _sql(rated, f"UPDATE meta SET value = '{version}' WHERE key = 'schema_version'")
    with pytest.raises(SessionError, match="damaged version number") as info:
        RatingStore.open(rated, read_only=True)
    assert repr(version) in info.value.details


LEGACY_WRITER = r"""
import os, sqlite3, sys
from medgrad_desktop.review import schema
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA wal_autocheckpoint = 0")
for statement in schema.MIGRATIONS[0]:
    conn.execute(statement)
conn.executemany("INSERT INTO meta VALUES (?, ?)", [("study", "old"), ("schema_version", "1"),
    ("created_at", "2025-01-01T00:00:00+00:00"), ("allow_edits", "1")])
for i, method in enumerate(["gradcam", "gradeclip", "medgrad"], start=1):
    conn.execute("INSERT INTO audit (action, reader, case_id, prompt, method, score, opacity, "
                 "created_at) VALUES ('add', 'r', 'c', 'p', ?, ?, 0.5, '2025')", (method, i))
    conn.execute("INSERT INTO current_rating VALUES ('r', 'c', 'p', ?, ?)", (method, i))
os._exit(0)  # like a crash: the ratings stay in the -wal side file
"""


def test_legacy_wal_session_is_converted_and_migrated(tmp_path):
    path = tmp_path / "legacy.mgsession"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", LEGACY_WRITER, str(path)], check=True, env=env)
    assert Path(f"{path}-wal").stat().st_size > 0
    with RatingStore.open(path) as store:
        assert store.schema_version == schema.latest_version()
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r["score"] for r in store.ratings()] == [1, 2, 3]
        assert store.tamper_findings == []
        _rate(store, "c2")
    assert not Path(f"{path}-wal").exists()
    copy = tmp_path / "alone" / "copy.mgsession"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())  # the main file alone holds every rating
    with RatingStore.open(copy, read_only=True) as store:
        assert len(store.ratings()) == 4 and store.tamper_findings == []


def test_hand_in_writes_a_consistent_single_file(rated, tmp_path):
    out = tmp_path / "handed" / "reader1.mgsession"
    with RatingStore.open(rated) as store:
        assert store.hand_in(out) == out
        with pytest.raises(SessionError, match="another place"):
            store.hand_in(rated)
        expected = store.ratings()
    assert sorted(p.name for p in out.parent.iterdir()) == ["reader1.mgsession"]
    with RatingStore.open(out, read_only=True) as copy:
        assert copy.ratings() == expected and copy.tamper_findings == []
        assert copy.integrity_check() == ["ok"]
    with sqlite3.connect(out) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_hand_in_refused_when_folder_cannot_be_written(rated, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    with RatingStore.open(rated) as store, pytest.raises(SessionError, match="cannot be written"):
        store.hand_in(blocked / "x.mgsession")


def test_network_share_refused_for_rating_allowed_for_reading(rated, tmp_path, monkeypatch):
    share = tmp_path / "share dir"
    share.mkdir()
    mounts = tmp_path / "mounts"
    escaped = str(share).replace(" ", "\\040")
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nserver:/export {escaped} nfs4 rw 0 0\n")
    monkeypatch.setattr(file_location, "_MOUNTS", mounts)
    assert file_location.network_share_kind(share / "new" / "s.mgsession") == "nfs4"
    assert file_location.network_share_kind(rated) is None
    with pytest.raises(SessionError, match=r"network drive .nfs4.*Hand in session"):
        RatingStore.open(share / "s.mgsession")
    on_share = share / "copy.mgsession"
    with RatingStore.open(rated) as store:
        store.hand_in(on_share)  # handing in to the share is the intended way
    with RatingStore.open(on_share, read_only=True) as store:
        assert len(store.ratings()) == 3


def test_csv_export_neutralises_formulas(tmp_path):
    import csv

    from medgrad_desktop.review.export import export_csv

    texts = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "fine = ok"]
    ratings = [
        {"reader": text, "case": "c", "prompt": "p", "method": "medgrad", "score": 3,
         "comment": text, "opacity": -0.0 if i == 0 else 0.5}
        for i, text in enumerate(texts)
    ]  # fmt: skip
    out = tmp_path / "r.csv"
    export_csv(ratings, out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["comment"] for r in rows] == ["'" + t for t in texts[:-1]] + ["fine = ok"]
    assert [r["reader"] for r in rows] == [r["comment"] for r in rows]
    assert rows[0]["opacity"] == "-0.0" and rows[0]["score"] == "3"  # numbers stay numbers
