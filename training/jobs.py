"""Training jobs started from the app: detached ``fit`` processes, found again after a restart.

A job for the run ``<out>/<time>-<name>/`` keeps its launcher files beside the run, in
``<out>/.medgrad-jobs/<time>-<name>/``: ``settings.yaml`` (what ``--config`` reads),
``job.json`` (pid and start time of the latest process) and ``job.log`` (its output, appended
by each start). The process runs in its own session/process group so it outlives the window;
Cancel sends SIGTERM to that group, which ``fit`` answers by saving ``last/``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

from medgrad_desktop.errors import DataError
from medgrad_desktop.launch import training_command
from training.config import TrainConfig, load_yaml_config
from training.events import EVENTS_FILE, read_events
from training.job_progress import RunProgress
from training.runs import CONFIG_FILE

log = logging.getLogger(__name__)

JOBS_DIR = ".medgrad-jobs"
SETTINGS_FILE, RECORD_FILE, LOG_FILE = "settings.yaml", "job.json", "job.log"
_CHILDREN: dict[int, subprocess.Popen] = {}  # processes started here (reaped via poll())


@dataclass(frozen=True)
class JobFiles:
    """The launcher files of the run ``run_dir``."""

    run_dir: Path

    @property
    def folder(self) -> Path:
        return self.run_dir.parent / JOBS_DIR / self.run_dir.name

    @property
    def settings(self) -> Path:
        return self.folder / SETTINGS_FILE

    @property
    def record(self) -> Path:
        return self.folder / RECORD_FILE

    @property
    def log(self) -> Path:
        return self.folder / LOG_FILE

    def read_record(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.record.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("Unreadable job record %s: %r", self.record, exc)
            return None


def run_folder_name(name: str) -> str:
    """``<YYYYmmdd-HHMMSS>-<name>`` as ``fit`` names its run folders."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"


def _job_environment() -> dict[str, str]:
    """The app's environment, with this source tree importable by ``-m training``."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _spawn(run_dir: Path, args: list[str], events_before: int) -> subprocess.Popen:
    files = JobFiles(run_dir)
    files.folder.mkdir(parents=True, exist_ok=True)
    command = training_command(args)
    options: dict[str, Any] = {
        "stdin": subprocess.DEVNULL,
        "stderr": subprocess.STDOUT,
        "env": _job_environment(),
    }
    if os.name == "nt":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    with files.log.open("ab") as output:
        output.write(f"\n$ {' '.join(command)}\n".encode())
        output.flush()
        process = subprocess.Popen(command, stdout=output, **options)
    _CHILDREN[process.pid] = process
    record = {
        "pid": process.pid,
        "create_time": psutil.Process(process.pid).create_time(),
        "command": command,
        "launched": time.time(),
        "events_before": events_before,
    }
    files.record.write_text(json.dumps(record, indent=1), encoding="utf-8")
    log.info("Started training job %s (pid %d): %s", run_dir, process.pid, command)
    return process


def start_job(settings: dict[str, Any], run_dir: Path | None = None) -> Path:
    """Write ``settings`` (``TrainConfig`` fields) to YAML and start ``fit`` on it, detached.
    Returns the run folder the job will fill (``<out>/<time>-<name>/`` unless given)."""
    config = TrainConfig(**settings).validate()
    out = Path(config.out).expanduser().resolve()
    run_dir = Path(run_dir) if run_dir else out / run_folder_name(config.name)
    if run_dir.exists():
        raise DataError(f"The output folder {run_dir} already exists; choose another name.")
    files = JobFiles(run_dir)
    files.folder.mkdir(parents=True, exist_ok=True)
    values = {**config.to_dict(), "out": str(out)}
    files.settings.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    _spawn(run_dir, ["fit", "--config", str(files.settings), "--run-dir", str(run_dir)], 0)
    return run_dir


def start_job_from_config(config_path: str | Path) -> Path:
    """Start ``fit --config FILE`` headless, as on the command line (the file's ``out`` and
    ``name`` choose the run folder; a relative ``out`` is taken from the file's folder)."""
    config_path = Path(config_path).expanduser().resolve()
    values = load_yaml_config(config_path)
    out = Path(str(values.get("out", TrainConfig.out))).expanduser()
    for key in ("data", "descriptions", "base", "tokenizer"):
        value = values.get(key)
        if isinstance(value, str) and value and value != "demo" and value != "scratch":
            candidate = config_path.parent / value
            if not Path(value).is_absolute() and candidate.exists():
                values[key] = str(candidate)
    values["out"] = str(out if out.is_absolute() else config_path.parent / out)
    return start_job(values)


def resume_job(run_dir: str | Path) -> None:
    """Start ``fit --resume RUN`` detached; refuses a run that is still running."""
    run_dir = Path(run_dir)
    if job_running(run_dir):
        raise DataError(f"The run {run_dir.name} is still running.")
    if not (run_dir / "last").is_dir() or not (run_dir / CONFIG_FILE).is_file():
        raise DataError(f"The run {run_dir.name} has no saved state (last/) to resume from.")
    _spawn(run_dir, ["fit", "--resume", str(run_dir)], len(read_events(run_dir)))


def _process(record: dict[str, Any] | None) -> psutil.Process | None:
    """The job's process if it is still alive (not a recycled pid, not a zombie)."""
    if not record or "pid" not in record:
        return None
    pid = int(record["pid"])
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return None
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - float(record.get("create_time", 0))) > 1.0:
            return None  # the pid now belongs to another program
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except psutil.NoSuchProcess:
        return None


def job_running(run_dir: str | Path) -> bool:
    """Whether the latest process started for ``run_dir`` from the app is alive."""
    return _process(JobFiles(Path(run_dir)).read_record()) is not None


def cancel_job(run_dir: str | Path) -> bool:
    """Ask the job to stop (SIGTERM to its process group; CTRL+BREAK on Windows); ``fit``
    saves ``last/`` and writes ``cancelled``. False when it is not running."""
    process = _process(JobFiles(Path(run_dir)).read_record())
    if process is None:
        return False
    if os.name == "nt":
        process.send_signal(signal.CTRL_BREAK_EVENT)
    else:
        os.killpg(os.getpgid(process.pid), signal.SIGTERM)
    log.info("Asked training job %s (pid %d) to stop", run_dir, process.pid)
    return True


def wait_for_exit(run_dir: str | Path, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the job's process to end; True when it has."""
    process = _process(JobFiles(Path(run_dir)).read_record())
    if process is None:
        return True
    child = _CHILDREN.get(process.pid)
    try:
        if child is not None:
            child.wait(timeout)
        else:
            process.wait(timeout)
    except (subprocess.TimeoutExpired, psutil.TimeoutExpired):
        return False
    return True


def discover_runs(folders: list[Path]) -> list[Path]:
    """Run folders under ``folders`` (with ``events.jsonl`` or ``config.yaml``) and runs the
    app started that have no folder yet; newest first."""
    found: set[Path] = set()
    for folder in folders:
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            if child.is_dir() and (
                (child / EVENTS_FILE).is_file() or (child / CONFIG_FILE).is_file()
            ):
                found.add(child.resolve())
        jobs = folder / JOBS_DIR
        if jobs.is_dir():
            found.update(
                (folder / entry.name).resolve() for entry in jobs.iterdir() if entry.is_dir()
            )
    return sorted(found, key=lambda path: path.name, reverse=True)


def run_state(run_dir: str | Path, progress: RunProgress) -> tuple[str, str]:
    """``(state, sentence)``; state is ``starting``, ``running``, ``ending`` (final event
    written, process still closing), ``finished``, ``failed`` or ``cancelled``. A run the
    app started is running while its process lives; a run started elsewhere (no job record)
    is running until its events end."""
    record = JobFiles(Path(run_dir)).read_record()
    alive = _process(record) is not None
    launched_events = int(record.get("events_before", 0)) if record else 0
    started_now = (
        progress.last_started_index is not None and progress.last_started_index >= launched_events
    )
    ended_now = progress.terminal_index is not None and progress.terminal_index >= launched_events
    terminal = progress.terminal if (ended_now or record is None) else None
    if terminal is not None and alive:
        return "ending", "Saving and closing…"
    if terminal is not None:
        kind = str(terminal["event"])
        sentence = {
            "finished": "Finished.",
            "cancelled": "Cancelled; the last state is saved and can be resumed.",
            "failed": str(terminal.get("message") or "The training failed."),
        }[kind]
        return kind, sentence
    if alive:
        return ("running", "Training.") if started_now else ("starting", "Starting…")
    if record is None:
        return "running", "Running (started outside the app)."
    if started_now:
        return "failed", "The training process ended without a final report; see the log."
    return "failed", "The training process ended before it started; see the log."
