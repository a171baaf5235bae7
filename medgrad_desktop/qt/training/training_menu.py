"""The Training menu of the main window: New training run…, Run headless job from config…, Jobs.

``install_training_menu(window)`` adds it through the window's ``add_mode_menu`` hook; "Open
result in viewer" in the Jobs panel opens the run's ``best/`` with ``window.open_model``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.training.jobs_panel import JobsPanel
from medgrad_desktop.qt.training.new_run_dialog import NewRunDialog
from medgrad_desktop.qt.widgets.warning_box import show_warning
from training.jobs import start_job_from_config
from training.run_watch import remember_run_folder

log = logging.getLogger(__name__)


class TrainingMenu(QObject):
    """Owns the menu, the dialog and the Jobs panel of one main window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel: JobsPanel | None = None
        self.dialog: NewRunDialog | None = None
        self.menu = QMenu("&Training", window)
        self.menu.setObjectName("trainingMenu")
        self.new_run_action = self._add("New training run…", self.new_run)
        self.headless_action = self._add("Run headless job from config…", self.choose_config)
        self.jobs_action = self._add("Jobs", self.show_jobs)

    def _add(self, text: str, slot) -> QAction:
        action = QAction(text, self.menu)
        action.setStatusTip(text.rstrip("…"))
        action.triggered.connect(lambda _checked=False: slot())
        self.menu.addAction(action)
        return action

    def new_run(self, defaults: dict | None = None) -> NewRunDialog:
        """Open the dialog (non-blocking); a started job is shown in the Jobs panel."""
        dialog = NewRunDialog(self.window, defaults)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.jobStarted.connect(self.show_run)
        self.dialog = dialog
        dialog.open()
        return dialog

    def choose_config(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self.window, "Training settings (YAML)", filter="YAML (*.yaml *.yml)"
        )
        if chosen:
            self.start_config(Path(chosen))

    def start_config(self, config: Path) -> Path | None:
        """Start ``fit --config config`` headless, without the dialog; show it in the panel."""
        try:
            run_dir = start_job_from_config(config)
        except MedGradError as exc:
            self._warn(exc.message)
            return None
        except OSError as exc:
            log.error("Starting a job from %s failed: %r", config, exc)
            self._warn("The training job could not be started; see the log for details.")
            return None
        remember_run_folder(run_dir.parent)
        self.show_run(run_dir)
        return run_dir

    def show_jobs(self) -> JobsPanel:
        if self.panel is None:
            self.panel = JobsPanel(self.window)
            self.panel.openResult.connect(self.open_result)
        self.panel.show()
        self.panel.raise_()
        return self.panel

    def show_run(self, run_dir: Path) -> None:
        self.show_jobs().select_run(run_dir)

    def open_result(self, model_folder: Path) -> None:
        """Load the run's model in the viewer and bring the viewer to the front."""
        self.window.open_model(model_folder)
        self.window.raise_()
        self.window.activateWindow()

    def _warn(self, message: str) -> None:
        show_warning(self.window, "Training job not started", message, "trainingErrorBox")


def install_training_menu(window) -> TrainingMenu:
    """Add the Training menu to ``window`` (a ``MainWindow``); returns its controller."""
    training = TrainingMenu(window)
    window.add_mode_menu(training.menu)
    window.training_menu = training
    return training
