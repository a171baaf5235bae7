"""Training → New training run…: the settings of one run, checked before the job starts.

The check (``training.preflight``: the data loaded and split as ``fit`` does, the base model
opened, the output folder written to) runs in a background thread; its counts or its refusal
appear in the dialog. "Start training" checks first and starts the job only when all is well.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.training.preflight_worker import PreflightWorker
from training.jobs import start_job
from training.run_watch import default_runs_folder, remember_run_folder

log = logging.getLogger(__name__)

DATA_FORMATS = ("Image folder + descriptions CSV", "Manifest CSV")
BASES = ("Demo model", "Hugging Face folder", "OpenAI .pth file")
METHODS = (("full", "Full fine-tuning"), ("frozen", "Frozen layers"), ("lora", "LoRA"))
DEVICES = ("auto", "cpu", "cuda")


def _path_row(edit: QLineEdit, browse) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    layout.addWidget(button)
    return row


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin


class NewRunDialog(QDialog):
    """``jobStarted(run_dir)`` is emitted when the job was started (the dialog then closes).
    ``defaults`` pre-fills fields and passes other ``TrainConfig`` settings through."""

    jobStarted = Signal(Path)
    checked = Signal(bool)  # a check ended: passed or refused

    def __init__(self, parent: QWidget | None = None, defaults: dict[str, Any] | None = None):
        super().__init__(parent)
        self.setWindowTitle("New training run")
        self.setObjectName("newRunDialog")
        self.extra = dict(defaults or {})
        self.run_dir: Path | None = None
        self._start_after_check = False
        self.worker = PreflightWorker(self)
        self.worker.passed.connect(self._on_passed)
        self.worker.refused.connect(self._on_refused)
        self._build()
        self._fill(self.extra)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.data_format = QComboBox()
        self.data_format.addItems(DATA_FORMATS)
        self.data_path = QLineEdit()
        self.data_path.setPlaceholderText("folder of images (or the manifest CSV)")
        self.descriptions = QLineEdit()
        self.descriptions.setPlaceholderText("descriptions.csv (found in the folder if empty)")
        self.base_kind = QComboBox()
        self.base_kind.addItems(BASES)
        self.base_path = QLineEdit()
        self.method = QComboBox()
        for key, label in METHODS:
            self.method.addItem(label, key)
        self.trainable_layers = _spin(0, 48, 2)
        self.lora_r = _spin(1, 256, 8)
        self.epochs = _spin(1, 10000, 10)
        self.batch_size = _spin(2, 4096, 32)
        self.lr = QLineEdit("1e-4")
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.name = QLineEdit("clip")
        self.out = QLineEdit(str(default_runs_folder()))
        self.summary = QLabel("")
        self.summary.setObjectName("summaryLabel")
        self.summary.setWordWrap(True)
        self.problem = QLabel("")
        self.problem.setObjectName("problemLabel")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020; font-weight: bold;")
        two_lines = 2 * self.fontMetrics().lineSpacing() + 4
        for label in (self.summary, self.problem):
            label.setMinimumHeight(two_lines)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.check_button = QPushButton("Check")
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        cancel = QPushButton("Close")
        self.check_button.clicked.connect(self.check)
        self.start_button.clicked.connect(self.start)
        cancel.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Data format", self.data_format)
        form.addRow("Data", _path_row(self.data_path, self._browse_data))
        form.addRow("Descriptions CSV", _path_row(self.descriptions, self._browse_descriptions))
        form.addRow("Base model", self.base_kind)
        form.addRow("Model path", _path_row(self.base_path, self._browse_base))
        form.addRow("Method", self.method)
        form.addRow("Trainable last layers", self.trainable_layers)
        form.addRow("LoRA rank", self.lora_r)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Device", self.device)
        form.addRow("Run name", self.name)
        form.addRow("Output folder", _path_row(self.out, self._browse_out))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.check_button, self.start_button, cancel):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.data_format.currentIndexChanged.connect(self._update_enabled)
        self.base_kind.currentIndexChanged.connect(self._update_enabled)
        self.method.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()
        self.resize(620, self.sizeHint().height())

    def _update_enabled(self) -> None:
        self.descriptions.setEnabled(self.data_format.currentIndex() == 0)
        self.base_path.setEnabled(self.base_kind.currentIndex() != 0)
        method = self.method.currentData()
        self.trainable_layers.setEnabled(method == "frozen")
        self.lora_r.setEnabled(method == "lora")

    def _fill(self, values: dict[str, Any]) -> None:
        """Show known settings in their fields (the rest stays in ``self.extra``)."""
        if "data" in values:
            manifest = str(values["data"]).lower().endswith(".csv")
            self.data_format.setCurrentIndex(1 if manifest else 0)
            self.data_path.setText(str(values.pop("data")))
        if values.get("descriptions"):
            self.descriptions.setText(str(values.pop("descriptions")))
        if "base" in values:
            base = str(values.pop("base"))
            kind = 0 if base == "demo" else 2 if base.lower().endswith((".pth", ".pt")) else 1
            self.base_kind.setCurrentIndex(kind)
            self.base_path.setText("" if kind == 0 else base)
        if "method" in values:
            self.method.setCurrentIndex([m for m, _ in METHODS].index(values.pop("method")))
        spins = {
            "trainable_layers": self.trainable_layers,
            "lora_r": self.lora_r,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
        }
        for key, spin in spins.items():
            if key in values:
                spin.setValue(int(values.pop(key)))
        for key, edit in (("lr", self.lr), ("name", self.name), ("out", self.out)):
            if key in values:
                edit.setText(str(values.pop(key)))
        if "device" in values:
            self.device.setCurrentText(str(values.pop("device")))

    # -- browsing ---------------------------------------------------------------------------
    def _browse_data(self) -> None:
        if self.data_format.currentIndex() == 0:
            chosen = QFileDialog.getExistingDirectory(self, "Folder of training images")
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Manifest CSV", filter="CSV (*.csv)")
        if chosen:
            self.data_path.setText(chosen)

    def _browse_descriptions(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Descriptions CSV", filter="CSV (*.csv)")
        if chosen:
            self.descriptions.setText(chosen)

    def _browse_base(self) -> None:
        if self.base_kind.currentIndex() == 1:
            chosen = QFileDialog.getExistingDirectory(self, "Hugging Face model folder")
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "OpenAI-format checkpoint", filter="Checkpoint (*.pth *.pt)"
            )
        if chosen:
            self.base_path.setText(chosen)

    def _browse_out(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Output folder for training runs")
        if chosen:
            self.out.setText(chosen)

    # -- settings, check, start -------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The run's ``TrainConfig`` settings as entered (plus the passed-through defaults)."""
        try:
            lr = float(self.lr.text().strip())
        except ValueError:
            lr = -1.0  # refused by the check with a plain sentence
        method = self.method.currentData()
        values = {
            **self.extra,
            "data": self.data_path.text().strip(),
            "descriptions": (
                self.descriptions.text().strip() or None
                if self.data_format.currentIndex() == 0
                else None
            ),
            "base": "demo" if self.base_kind.currentIndex() == 0 else self.base_path.text().strip(),
            "method": method,
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "lr": lr,
            "device": self.device.currentText(),
            "name": self.name.text().strip() or "clip",
            "out": self.out.text().strip(),
        }
        if method == "frozen":
            values["trainable_layers"] = self.trainable_layers.value()
        if method == "lora":
            values["lora_r"] = self.lora_r.value()
            values["lora_alpha"] = 2 * self.lora_r.value()
        return values

    def _busy(self, busy: bool) -> None:
        self.check_button.setEnabled(not busy)
        self.start_button.setEnabled(not busy)

    def check(self) -> None:
        """Check the settings in the background; the counts or the reason appear below."""
        settings = self.settings()
        if not settings["data"]:
            self._on_refused("Choose the training data first.")
            return
        if settings["base"] == "":
            self._on_refused("Choose the base model file or folder.")
            return
        if not settings["out"]:
            self._on_refused("Choose an output folder.")
            return
        self._busy(True)
        self.problem.setText("")
        self.summary.setText("Checking the data and the model…")
        self.worker.check(settings)

    def start(self) -> None:
        """Check, then start the job when the check passes."""
        self._start_after_check = True
        self.check()

    def _on_passed(self, report) -> None:
        self.summary.setText(report.summary())
        self.problem.setText("")
        self._busy(False)
        self.checked.emit(True)
        if self._start_after_check:
            self._start_after_check = False
            self._start_job()

    def _on_refused(self, message: str) -> None:
        self._start_after_check = False
        self.summary.setText("")
        self.problem.setText(message)
        self._busy(False)
        self.checked.emit(False)

    def _start_job(self) -> None:
        settings = self.settings()
        try:
            self.run_dir = start_job(settings)
        except MedGradError as exc:
            self._on_refused(exc.message)
            return
        except OSError as exc:
            log.error("Starting the training job failed: %r", exc)
            self._on_refused("The training job could not be started; see the log for details.")
            return
        remember_run_folder(self.run_dir.parent)
        self.jobStarted.emit(self.run_dir)
        self.accept()
