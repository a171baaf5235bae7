"""The selected run in the Jobs panel: state, progress bar with ETA, curves, log, buttons."""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.engine.run_names import human_run_name
from medgrad_desktop.qt.training.run_curves import RunCurves
from training.job_progress import format_duration
from training.run_watch import RunWatch

STATE_TITLES = {
    "starting": "Starting",
    "running": "Running",
    "ending": "Ending",
    "finished": "Finished",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


OPEN_RESULT = "Open result in viewer"
OPEN_SO_FAR = "Open best so far in viewer"

PROGRESS_BAR_LINE = re.compile(r"\d+%\|.*\|\s*\d+/\d+")
"""A tqdm progress-bar line ("45%|████▌     | 9/20 [00:03<00:04, 2.5it/s]")."""


def progress_text(progress) -> str:
    """ "Epoch 2 of 3 · step 14 of 30 · 47 %": the same words everywhere."""
    parts = []
    if progress.epochs:
        parts.append(f"Epoch {max(progress.epoch, 1)} of {progress.epochs}")
    if progress.total_steps:
        parts.append(f"step {progress.step} of {progress.total_steps}")
    parts.append(f"{round(progress.fraction * 100)} %")
    return " · ".join(parts)


def eta_text(seconds: float | None) -> str:
    """ "about 4 min 10 s left", or "time left: estimating…" until two timed steps are known."""
    if seconds is None:
        return "time left: estimating…"
    return f"about {format_duration(seconds)} left"


def clean_log(text: str) -> str:
    """The log without progress-bar redraws: for each line the text after its last carriage
    return, and no tqdm bar lines (the progress bar above shows them)."""
    lines = []
    for line in text.splitlines():
        line = line.rsplit("\r", 1)[-1]
        if line.strip() and not PROGRESS_BAR_LINE.search(line):
            lines.append(line)
    return "\n".join(lines)


class RunView(QWidget):
    """Shows one :class:`RunWatch`; the buttons emit what the panel should do."""

    cancelRequested = Signal()
    resumeRequested = Signal()
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.watch: RunWatch | None = None
        self.title = QLabel("No run selected")
        self.title.setObjectName("runTitle")
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.state = QLabel("")
        self.state.setObjectName("runState")
        self.state.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.eta = QLabel("")
        self.eta.setObjectName("runEta")
        self.curves = RunCurves()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(400)
        self.log.setFont(QFont("monospace", 8))
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log.setPlaceholderText("The job's messages appear here (runs started in this app).")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the job; its last state is saved and can be resumed")
        self.resume_button = QPushButton("Resume")
        self.open_button = QPushButton(OPEN_RESULT)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.resume_button.clicked.connect(self.resumeRequested)
        self.open_button.clicked.connect(self.openRequested)

        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta)
        buttons = QHBoxLayout()
        for button in (self.cancel_button, self.resume_button, self.open_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.state)
        layout.addLayout(progress_row)
        layout.addWidget(self.curves, 3)
        layout.addWidget(QLabel("Log"))
        layout.addWidget(self.log, 2)
        layout.addLayout(buttons)
        self.show_watch(None)

    def show_watch(self, watch: RunWatch | None) -> None:
        """Show ``watch`` (None: nothing selected)."""
        self.watch = watch
        self.log.clear()
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the watch's current progress (the panel polls the watch)."""
        watch = self.watch
        if watch is None:
            self.title.setText("No run selected")
            self.state.setText("")
            self.progress.setValue(0)
            self.progress.setFormat("")
            self.eta.setText("")
            self.curves.show_progress(None)
            for button in (self.cancel_button, self.resume_button, self.open_button):
                button.setEnabled(False)
            return
        progress = watch.progress
        self.title.setText(human_run_name(watch.run_dir))
        self.title.setToolTip(str(watch.run_dir))
        if watch.state == "running" and progress.device:
            state_text = f"Running on {progress.device.upper()}."
        else:
            title = STATE_TITLES.get(watch.state, watch.state)
            sentence = watch.sentence
            state_text = sentence if sentence.startswith(title) else f"{title} — {sentence}"
        if progress.test_accuracy is not None:
            state_text += f" Test zero-shot accuracy {progress.test_accuracy:.3f}."
        self.state.setText(state_text)
        self.progress.setValue(round(progress.fraction * 1000))
        self.progress.setFormat(progress_text(progress))
        eta = progress.eta_seconds() if watch.state == "running" else None
        self.eta.setText(eta_text(eta) if watch.state == "running" else "")
        self.curves.show_progress(progress)
        self._show_log(clean_log(watch.log_tail()))
        active = watch.state in ("starting", "running", "ending")
        self.cancel_button.setEnabled(watch.state in ("starting", "running") and watch.has_job)
        self.resume_button.setEnabled(
            not active and watch.state != "finished" and (watch.run_dir / "last").is_dir()
        )
        self._show_result(watch, active)

    def _show_result(self, watch: RunWatch, active: bool) -> None:
        """ "Open result" only when a checkpoint exists; mid-run it opens the best so far."""
        model = watch.result_model
        self.open_button.setEnabled(model is not None)
        so_far = model is not None and active
        self.open_button.setText(OPEN_SO_FAR if so_far else OPEN_RESULT)
        if model is None:
            tip = "Nothing to open yet: the first model is saved at the end of epoch 1."
        elif model.name == "last":
            tip = "Opens the last saved state (the run ended before its first validation)."
        elif so_far:
            tip = "Opens the best model so far (the epoch with the best validation accuracy yet)."
        else:
            tip = "Opens the best model of the run (chosen on the validation images)."
        self.open_button.setToolTip(tip)

    def _show_log(self, text: str) -> None:
        if text == self.log.toPlainText():
            return
        bar = self.log.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        self.log.setPlainText(text)
        if at_bottom:
            bar.setValue(bar.maximum())
