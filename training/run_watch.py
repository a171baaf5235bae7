"""One run as a progress view sees it: its events followed incrementally, its state, its log.

Also the list of folders the app looks in for runs (the user data ``training-runs`` folder and
every output folder a job was started in), kept in ``training-run-folders.json``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from medgrad_desktop.paths import user_data_dir, user_subdir
from training.job_progress import EventFollower, RunProgress
from training.jobs import JobFiles, run_state

log = logging.getLogger(__name__)

RUNS_SUBDIR = "training-runs"
FOLDERS_FILE = "training-run-folders.json"
LOG_TAIL_BYTES = 16 * 1024
# A saved model's files (``medgrad_desktop.explain.open_clip.folder`` names the open_clip ones;
# not imported here: it imports torch, and the Jobs panel must not wait for that).
HF_FILES = ("config.json", ("model*.safetensors", "pytorch_model*.bin"))
OPEN_CLIP_FILES = (
    "open_clip_config.json",
    ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"),
)


class RunWatch:
    """Follows ``run_dir``: call :meth:`poll` regularly; it reads only what was added."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.follower = EventFollower(self.run_dir)
        self.progress = RunProgress()
        self.state, self.sentence = "starting", "Starting…"

    @property
    def name(self) -> str:
        return self.run_dir.name

    def poll(self) -> bool:
        """Read new events and update the state; True when anything changed."""
        events = self.follower.read_new()
        self.progress.apply(events)
        state = run_state(self.run_dir, self.progress)
        changed = bool(events) or state != (self.state, self.sentence)
        self.state, self.sentence = state
        return changed

    @property
    def has_job(self) -> bool:
        """Whether the app started this run (so it knows its process and log)."""
        return JobFiles(self.run_dir).read_record() is not None

    @property
    def result_model(self) -> Path | None:
        """The checkpoint "Open result" opens: ``best/`` once it holds a complete model (mid-run
        too: the best epoch so far); ``last/`` only for a run that ended before its first
        validation saved ``best/`` (cancelled or failed early); else None."""
        if is_complete_checkpoint(self.run_dir / "best"):
            return self.run_dir / "best"
        ended = self.state not in ("starting", "running", "ending")
        if ended and is_complete_checkpoint(self.run_dir / "last"):
            return self.run_dir / "last"
        return None

    def log_tail(self, max_bytes: int = LOG_TAIL_BYTES) -> str:
        """The end of the job's log (progress-bar redraws collapsed to their last state)."""
        return read_tail(JobFiles(self.run_dir).log, max_bytes)


def is_complete_checkpoint(folder: Path) -> bool:
    """Whether ``folder`` holds a whole saved model: its config and its weights, as
    ``save_checkpoint`` writes a Hugging Face or an open_clip folder (``replace_folder`` puts
    a checkpoint in place only once it is written, so a half-written one never has this name)."""
    for config, weights in (HF_FILES, OPEN_CLIP_FILES):
        if (folder / config).is_file():
            return any(path.is_file() for pattern in weights for path in folder.glob(pattern))
    return False


def read_tail(path: Path, max_bytes: int = LOG_TAIL_BYTES) -> str:
    """The last ``max_bytes`` of a text file, without reading the rest; '' if missing."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if size > max_bytes:
        lines = lines[1:]  # the first line is cut
    return "\n".join(_last_redraw(line) for line in lines)


def _last_redraw(line: str) -> str:
    """A progress bar redraws its line after a carriage return; keep what is shown last."""
    parts = [part for part in line.split("\r") if part.strip()]
    return parts[-1] if parts else ""


def default_runs_folder() -> Path:
    """Where the app puts new runs: ``<user data>/training-runs``."""
    return user_subdir(RUNS_SUBDIR)


def known_run_folders() -> list[Path]:
    """The default runs folder and every output folder remembered, existing ones only."""
    folders = [default_runs_folder()]
    path = user_data_dir() / FOLDERS_FILE
    if path.is_file():
        try:
            folders += [Path(p) for p in json.loads(path.read_text(encoding="utf-8"))]
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            log.warning("Ignored the damaged list of run folders %s: %r", path, exc)
    unique = list(dict.fromkeys(p.expanduser().resolve() for p in folders))
    return [p for p in unique if p.is_dir()]


def remember_run_folder(folder: str | Path) -> None:
    """Add ``folder`` to the run folders the app looks in."""
    folder = Path(folder).expanduser().resolve()
    path = user_data_dir() / FOLDERS_FILE
    current = [str(p) for p in known_run_folders()]
    if str(folder) not in current:
        path.write_text(json.dumps([*current, str(folder)], indent=1), encoding="utf-8")
