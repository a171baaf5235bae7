"""Qt-free parts of training jobs: incremental event reading, progress, ETA, state, discovery."""

from __future__ import annotations

import json
import subprocess
import sys

from training.events import EventLog
from training.job_progress import EventFollower, RunProgress, format_duration
from training.jobs import JOBS_DIR, JobFiles, discover_runs, run_state
from training.run_watch import read_tail


def _line(**fields) -> str:
    return json.dumps({"time": "2026-01-01T00:00:00+00:00", **fields}) + "\n"


def test_follower_reads_only_new_complete_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    follower = EventFollower(tmp_path, max_bytes=64)
    assert follower.read_new() == []  # no file yet
    path.write_text(_line(event="epoch", epoch=1, epochs=2) + '{"event": "st')
    first = []
    while not follower.at_end:  # 64-byte chunks: several calls, nothing lost or doubled
        first += follower.read_new()
    assert [e["event"] for e in first] == ["epoch"]
    with path.open("a") as handle:
        handle.write('ep", "step": 1, "total_steps": 4, "loss": 2.0}\n')
    new = []
    while not follower.at_end:
        new += follower.read_new()
    assert new == [{"event": "step", "step": 1, "total_steps": 4, "loss": 2.0}]
    path.write_text(_line(event="epoch", epoch=1, epochs=2))  # replaced by a shorter file
    again = follower.read_new()
    while not follower.at_end:
        again += follower.read_new()
    assert [e["epoch"] for e in again] == [1]


def test_progress_eta_and_resume_drop_replayed_points():
    progress = RunProgress()
    times = ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:10+00:00"]
    progress.apply(
        [
            {"event": "started", "total_steps": 10, "start_step": 0, "epochs": 2},
            {"event": "step", "step": 1, "total_steps": 10, "loss": 3.0, "time": times[0]},
            {"event": "step", "step": 3, "total_steps": 10, "loss": 2.0, "time": times[1]},
            {"event": "metrics", "split": "val", "step": 3, "loss": 1.5, "zero_shot_accuracy": 0.5},
            {"event": "step", "step": 4, "total_steps": 10, "loss": 1.9, "time": times[1]},
        ]
    )
    assert progress.seconds_per_step == 10 / 3
    assert abs(progress.eta_seconds() - 6 * 10 / 3) < 1e-9
    assert progress.fraction == 0.4
    progress.apply([{"event": "cancelled", "step": 4}])
    assert progress.terminal["event"] == "cancelled" and progress.eta_seconds() is None
    progress.apply([{"event": "started", "total_steps": 10, "start_step": 3, "epochs": 2}])
    assert progress.terminal is None and progress.step == 3
    assert progress.train_losses == [(1, 3.0), (3, 2.0)]
    assert progress.eta_seconds() is None  # no step since this start yet
    progress.apply(
        [
            {
                "event": "started",
                "total_steps": 10,
                "start_step": 3,
                "epochs": 2,
                "time": "2026-01-01T00:01:00+00:00",
            },
            {
                "event": "step",
                "step": 5,
                "total_steps": 10,
                "loss": 1.0,
                "time": "2026-01-01T00:01:04+00:00",
            },
        ]
    )
    assert progress.seconds_per_step == 2.0 and progress.eta_seconds() == 10.0
    progress.apply([{"event": "started", "total_steps": 10, "start_step": 3, "epochs": 2}])
    assert progress.val_accuracy == [(3, 0.5)] and progress.last_started_index == 9
    progress.apply([{"event": "metrics", "split": "test", "zero_shot_accuracy": 0.75}])
    assert progress.test_accuracy == 0.75


def test_format_duration():
    assert [format_duration(s) for s in (None, 12.4, 250, 3900)] == [
        "—",
        "12 s",
        "4 min 10 s",
        "1 h 05 min",
    ]


def test_state_of_runs_started_by_the_app_and_elsewhere(tmp_path):
    run = tmp_path / "20260101-000000-a"
    run.mkdir()
    events = EventLog(run)
    events.write("started", total_steps=2, start_step=0, epochs=1)
    progress = RunProgress()
    progress.apply(EventFollower(run).read_new())
    assert run_state(run, progress)[0] == "running"  # no job record, no end event
    files = JobFiles(run)
    files.folder.mkdir(parents=True)
    # a recorded job whose process is gone, without an end event: it failed
    files.record.write_text(json.dumps({"pid": 999_999_999, "create_time": 0, "events_before": 0}))
    state, sentence = run_state(run, progress)
    assert state == "failed" and "without a final report" in sentence
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import psutil

        record = {
            "pid": sleeper.pid,
            "create_time": psutil.Process(sleeper.pid).create_time(),
            "events_before": 1,
        }
        files.record.write_text(json.dumps(record))
        assert run_state(run, progress)[0] == "starting"  # the resumed process has not started
        events.write("started", total_steps=2, start_step=1, epochs=1)
        progress.apply(EventFollower(run).read_new()[1:])
        assert run_state(run, progress)[0] == "running"
        events.write("cancelled", step=1, path="last", signal="SIGTERM")
        progress.apply([{"event": "cancelled", "step": 1}])
        assert run_state(run, progress)[0] == "ending"  # the process is still closing
    finally:
        sleeper.kill()
        sleeper.wait()
    assert run_state(run, progress)[0] == "cancelled"


def test_discover_runs_finds_run_folders_and_jobs_without_one(tmp_path):
    (tmp_path / "20260101-000000-a").mkdir()
    (tmp_path / "20260101-000000-a" / "events.jsonl").write_text("")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / JOBS_DIR / "20260102-000000-b").mkdir(parents=True)
    found = discover_runs([tmp_path, tmp_path / "missing"])
    assert [p.name for p in found] == ["20260102-000000-b", "20260101-000000-a"]


def test_read_tail_keeps_the_last_progress_redraw(tmp_path):
    log = tmp_path / "job.log"
    log.write_bytes(b"x" * 100 + b"\nstart\n\rtraining 10%\rtraining 50%\r\ndone\n")
    assert read_tail(log, max_bytes=60) == "start\ntraining 50%\ndone\n"
    assert read_tail(tmp_path / "missing.log") == ""
