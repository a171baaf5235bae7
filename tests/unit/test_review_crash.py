"""kill -9 a writer at random moments: every acknowledged rating survives, the file stays sound."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medgrad_desktop.review.store import RatingStore

ROOT = Path(__file__).resolve().parents[2]
KILLS = 200

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


@pytest.mark.slow
def test_sigkill_during_writes_loses_no_acknowledged_rating(tmp_path):
    path = tmp_path / "crash.mgsession"
    RatingStore.open(path, study="crash").close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(7)
    acknowledged: dict[int, tuple[str, str, int]] = {}
    started = time.monotonic()
    for i in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        first = ""
        if rng.random() < 0.85:  # mostly mid-write; sometimes during start-up / open
            first = proc.stdout.readline()
        time.sleep(rng.uniform(0, 0.04))
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err
        for line in (first + out).split("\n")[:-1]:  # a torn last line was never acknowledged
            parts = line.split()
            if len(parts) == 4:
                acknowledged[int(parts[0])] = (parts[1], parts[2], int(parts[3]))
    elapsed = time.monotonic() - started
    with RatingStore.open(path, study="crash") as store:
        assert store.integrity_check() == ["ok"]
        audit = {e["id"]: (e["case"], e["method"], e["score"]) for e in store.audit_log()}
        assert {k: audit.get(k) for k in acknowledged} == acknowledged
        assert store.replay_audit() == store.ratings()
    assert len(acknowledged) > KILLS  # the kills really hit a writing process
    print(f"{KILLS} kills, {len(acknowledged)} acknowledged ratings, {elapsed:.1f} s")
