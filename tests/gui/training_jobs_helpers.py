"""Helpers for the training-jobs GUI tests: tiny data, settings, screenshots, job cleanup."""

from __future__ import annotations

import os
from pathlib import Path

from training.jobs import cancel_job, wait_for_exit
from training.synthetic import write_dataset

SCREENSHOT_DIR_ENV = "MEDGRAD_SCREENSHOTS"  # set to keep the screenshots somewhere


def tiny_dataset(folder: Path) -> Path:
    """12 synthetic 64 px cases (seed format and manifest)."""
    return write_dataset(folder, n=12, seed=0, size=64)


def tiny_settings(data: Path, base: Path, out: Path, epochs: int = 5) -> dict:
    """Settings of a tiny CPU run: 3 steps per epoch on 6 training images, 15 steps."""
    return {
        "data": str(data / "images"),
        "descriptions": str(data / "descriptions.csv"),
        "base": str(base),
        "method": "full",
        "epochs": epochs,
        "batch_size": 2,
        "lr": 1e-4,
        "device": "cpu",
        "name": "tiny",
        "out": str(out),
        "threads": 1,
    }


def save_screenshot(widget, name: str, fallback_dir: Path) -> Path:
    """Grab ``widget`` to ``<dir>/<name>.png`` (``MEDGRAD_SCREENSHOTS`` or ``fallback_dir``)."""
    folder = Path(os.environ.get(SCREENSHOT_DIR_ENV) or fallback_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not write {path}"
    return path


def stop_jobs(run_dirs) -> None:
    """End jobs a failing test left running (SIGTERM, then wait)."""
    for run_dir in run_dirs:
        if cancel_job(run_dir):
            wait_for_exit(run_dir, 60)
