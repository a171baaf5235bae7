""" "Make sample data…": a synthetic image–text set (``training.synthetic.write_dataset``)
written in the background into a folder the user chooses, so training can be tried without
patient data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLabel, QProgressBar, QWidget

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.background import run_in_background
from medgrad_desktop.qt.widgets.folder_field import last_folder, remember_folder

log = logging.getLogger(__name__)

SAMPLE_CASES = 150  # enough for 3 classes, a test split and a few batches of 32
SAMPLE_SIZE = 224  # pixels, the input size of CLIP models
SAMPLE_SEED = 0
SAMPLE_FOLDER_NAME = "medgrad sample data"


def sample_folder(chosen: Path) -> Path:
    """``chosen`` itself when it is empty, else a new ``medgrad sample data`` folder in it."""
    if not any(chosen.iterdir()):
        return chosen
    target, number = chosen / SAMPLE_FOLDER_NAME, 1
    while target.exists():
        number += 1
        target = chosen / f"{SAMPLE_FOLDER_NAME} {number}"
    return target


class SampleDataMaker:
    """Asks for a folder, writes the set there with a busy bar and a message in ``message``,
    then calls ``on_written(folder)``."""

    def __init__(
        self, parent: QWidget, message: QLabel, on_written: Callable[[Path], None]
    ) -> None:
        self.parent, self.message, self.on_written = parent, message, on_written
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: write_dataset reports no steps
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self.folder: Path | None = None

    def ask(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self.parent,
            "Folder for the sample data (an empty one, or one to put it in)",
            last_folder(),
        )
        if chosen:
            remember_folder(Path(chosen))
            self.write(Path(chosen))

    def write(self, chosen: Path) -> None:
        """Write the set into ``chosen`` (see :func:`sample_folder`) in the background."""
        try:
            target = sample_folder(chosen)
        except OSError as exc:
            log.warning("Cannot look into %s: %r", chosen, exc)
            self.message.setText(f"The folder {chosen} cannot be opened; choose another one.")
            return
        self.folder = target
        self.progress.show()
        self.message.setText(f"Writing {SAMPLE_CASES} synthetic cases to {target}…")
        run_in_background(
            lambda: _write_sample_set(target),
            self._written,
            self._failed,
            owner=self.progress,
        )

    def _written(self, folder: Path) -> None:
        self.progress.hide()
        self.message.setText(
            f"{SAMPLE_CASES} synthetic cases ({', '.join(_classes())}) written to {folder}; the "
            "data fields now use them. They are generated pictures for trying the app, not "
            "patients."
        )
        self.on_written(Path(folder))

    def _failed(self, error: BaseException) -> None:
        self.progress.hide()
        if isinstance(error, MedGradError):
            text = error.message
        elif isinstance(error, OSError):
            text = f"The sample data could not be written to {self.folder}; choose another folder."
        else:
            text = "The sample data could not be made; see the log for details."
        self.message.setText(text)


def _write_sample_set(target: Path) -> Path:
    # the generator imports scikit-image and scipy: only when asked, not before the window
    from training.synthetic import write_dataset

    return write_dataset(target, n=SAMPLE_CASES, seed=SAMPLE_SEED, size=SAMPLE_SIZE)


def _classes() -> tuple[str, ...]:
    from training.synthetic import CLASSES

    return tuple(CLASSES)
