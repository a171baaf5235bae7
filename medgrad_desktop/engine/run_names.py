"""Human names for training runs: "1 Dec 06:32 · CLIP · demo data" instead of the folder
name "20261201-063200-clip", and a model opened from a run named after it (Qt-free: the
Jobs panel and the engine both use them)."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

RUN_FOLDER = re.compile(r"^(\d{8}-\d{6})-(.+)$")
CHECKPOINT_KINDS = {"best": "best", "last": "last saved"}


def _settings(run_dir: Path) -> dict:
    try:
        loaded = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        log.debug("No readable settings in %s: %r", run_dir, error)
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _words(text: str) -> str:
    return re.sub(r"[_\-]+", " ", text).strip()


def human_run_name(run_dir: Path) -> str:
    """When it started, what it trained and on which data (the folder name if unknown)."""
    match = RUN_FOLDER.match(run_dir.name)
    if match is None:
        return run_dir.name
    started = datetime.strptime(match[1], "%Y%m%d-%H%M%S")
    settings = _settings(run_dir)
    base = str(settings.get("base") or "scratch")
    model = "CLIP" if base in ("scratch", "demo") else _words(Path(base).name)
    data = settings.get("data")
    data_name = _words(Path(str(data)).stem if str(data).endswith(".csv") else Path(str(data)).name)
    parts = [f"{started.day} {started:%b %H:%M}", model]
    if data and data_name:
        parts.append(data_name)
    return " · ".join(parts)


def run_model_name(folder: Path) -> str | None:
    """A model in a run's ``best/`` or ``last/`` is named after the run ("1 Dec 06:32 · CLIP ·
    demo data (best)"); None for any other folder."""
    kind = CHECKPOINT_KINDS.get(folder.name)
    if kind is None or not RUN_FOLDER.match(folder.parent.name):
        return None
    return f"{human_run_name(folder.parent)} ({kind})"
