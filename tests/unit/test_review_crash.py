"""kill -9 a writer at random moments: every acknowledged rating survives in the file, and a
copy of the session file alone (no side files), taken while the writer runs or after the
kill, holds every rating acknowledged before the copy was taken.

A byte copy can only be torn when it races the page writes of a commit in flight (tens of
microseconds per rating; this writer commits in a tight loop, a reader every few seconds).
Such a copy is detected (SQLite refuses it); after a kill it happens only with the commit's
hot journal beside the file, and the copy is taken again while the writer runs. The counts
are printed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medgrad_desktop.review.store import RatingStore

ROOT = Path(__file__).resolve().parents[2]
KILLS = 80

WRITER = r"""
import random, sys
from medgrad_desktop.review.store import RatingStore
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
store = RatingStore.open(path, study="crash")
while True:
    case, method = f"case{rng.randrange(40):02d}", rng.choice(["gradcam", "gradeclip", "medgrad"])
    score = rng.randint(1, 5)
    rid = store.add_rating(reader="r", case=case, prompt="p", method=method, score=score,
                           comment="x" * rng.randrange(300), seconds_spent=rng.random())
    print(rid, case, method, score, flush=True)
"""


def _acknowledged(lines: str) -> dict[int, tuple[str, str, int]]:
    found = {}
    for line in lines.split("\n")[:-1]:  # a torn last line was never acknowledged
        parts = line.split()
        if len(parts) == 4:
            found[int(parts[0])] = (parts[1], parts[2], int(parts[3]))
    return found


def _audit_of_copy(original: Path, folder: Path, name: str) -> dict | None:
    """Copy the main file alone into ``folder`` and read its audit rows (plain sqlite3);
    None when the copy is torn (it raced a commit's page writes)."""
    copy = folder / name
    shutil.copyfile(original, copy)
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
            return None
        rows = conn.execute("SELECT id, case_id, method, score FROM audit").fetchall()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
        copy.unlink()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.mark.slow
def test_sigkill_during_writes_loses_no_acknowledged_rating_even_in_a_copy(tmp_path):
    path = tmp_path / "crash.mgsession"
    copies = tmp_path / "copies"
    copies.mkdir()
    RatingStore.open(path, study="crash").close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(7)
    acknowledged: dict[int, tuple[str, str, int]] = {}
    running_copies = killed_copies = torn_running = torn_after_kill = 0
    started = time.monotonic()
    for i in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        seen = ""
        if rng.random() < 0.85:  # mostly mid-write; sometimes during start-up / open
            seen = proc.stdout.readline()
            if rng.random() < 0.5:  # a copy taken while the writer runs
                before = {**acknowledged, **_acknowledged(seen)}
                copied = _audit_of_copy(path, copies, f"running{i}.mgsession")
                while copied is None:  # raced a commit: copy again
                    torn_running += 1
                    copied = _audit_of_copy(path, copies, f"running{i}.mgsession")
                assert {k: copied.get(k) for k in before} == before
                running_copies += 1
        time.sleep(rng.uniform(0, 0.04))
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err
        acknowledged |= _acknowledged(seen + out)
        copied = _audit_of_copy(path, copies, f"killed{i}.mgsession")  # after the kill
        if copied is None:  # killed inside a commit's page writes: its hot journal is there
            assert Path(f"{path}-journal").stat().st_size > 0
            torn_after_kill += 1
        else:
            assert {k: copied.get(k) for k in acknowledged} == acknowledged
            killed_copies += 1
    elapsed = time.monotonic() - started
    with RatingStore.open(path, study="crash") as store:
        assert store.integrity_check() == ["ok"]
        assert store.tamper_findings == []
        audit = {e["id"]: (e["case"], e["method"], e["score"]) for e in store.audit_log()}
        assert {k: audit.get(k) for k in acknowledged} == acknowledged
        assert store.replay_audit() == store.ratings()
    assert len(acknowledged) > KILLS  # the kills really hit a writing process
    assert torn_after_kill <= KILLS // 10 and killed_copies + torn_after_kill == KILLS
    print(
        f"{KILLS} kills, {len(acknowledged)} acknowledged ratings; complete copies: "
        f"{running_copies} while running, {killed_copies} after kills; torn (raced a commit): "
        f"{torn_running} while running, {torn_after_kill} after kills; {elapsed:.1f} s"
    )
