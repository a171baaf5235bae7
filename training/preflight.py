"""Checks of a training run's settings before a job starts, with the same functions ``fit``
uses, so the app can refuse bad input in plain words instead of starting a job that fails."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import DataError
from training.config import TrainConfig
from training.runs import prepare_data

log = logging.getLogger(__name__)


@dataclass
class PreflightReport:
    """What the data holds: counts per split and class, and the images that would be skipped."""

    images: int
    descriptions: int
    classes: list[str]
    train: int
    val: int
    test: int
    skipped: list[tuple[Path, str]]

    def summary(self) -> str:
        """One or two plain sentences for the dialog."""
        text = (
            f"{self.images} images and {self.descriptions} descriptions, "
            f"{len(self.classes)} classes ({', '.join(self.classes)}); "
            f"split {self.train} train / {self.val} validation / {self.test} test."
        )
        if self.skipped:
            text += f" {len(self.skipped)} unreadable images will be skipped."
        return text


def check_output_folder(out: str | Path) -> Path:
    """Create ``out`` if needed and prove a file can be written there; ``DataError`` if not."""
    path = Path(out).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise DataError(
            f"The output folder {path} cannot be written to; choose another folder.", repr(exc)
        ) from exc
    return path


def check_base_model(base: str, device: str) -> None:
    """Open the base model as ``fit`` will (``scratch`` needs none) and check the device."""
    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.loading import choose_device

    choose_device(None if device == "auto" else device)
    if base != "scratch":
        load_model(base, device="cpu")


def preflight(settings: dict[str, Any], check_model: bool = True) -> PreflightReport:
    """Validate ``settings`` (``TrainConfig`` fields): values, output folder, data (loaded,
    split and checked as ``fit`` does) and the base model. Raises a ``MedGradError``."""
    try:
        config = TrainConfig(**settings)
    except TypeError as exc:
        raise DataError("The training settings are not valid.", repr(exc)) from exc
    config.validate()
    check_output_folder(config.out)
    data = prepare_data(config)
    loaded = {s.image for s in data.train + data.val + data.test}
    total = len(loaded) + len(data.skipped)
    if check_model:
        check_base_model(config.base, config.device)
    return PreflightReport(
        images=total,
        descriptions=total,
        classes=data.classes,
        train=len(data.train),
        val=len(data.val),
        test=len(data.test),
        skipped=data.skipped,
    )
