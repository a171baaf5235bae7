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
from medgrad_desktop.qt.training.field_help import FIELD_HELP
from medgrad_desktop.qt.training.preflight_worker import PreflightWorker
from medgrad_desktop.qt.training.sample_data import SampleDataMaker
from medgrad_desktop.qt.training.time_estimator import TimeEstimator
from medgrad_desktop.qt.widgets.folder_field import FILE, FOLDER, FolderField
from training.jobs import start_job
from training.run_watch import default_runs_folder, remember_run_folder
from training.time_estimate import SplitCounts

log = logging.getLogger(__name__)

DATA_FORMATS = ("Image folder + descriptions CSV", "Manifest CSV")
BASES = ("Demo model", "Hugging Face folder", "OpenAI .pth file")
METHODS = (("full", "Full fine-tuning"), ("frozen", "Frozen layers"), ("lora", "LoRA"))
DEVICES = ("auto", "cpu", "cuda")
CSV_FILTER = "CSV (*.csv)"
DIALOG_WIDTH = 720


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
        self._connect_estimate()
        self.estimator.changed()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.data_format = QComboBox()
        self.data_format.addItems(DATA_FORMATS)
        self.data_path = FolderField(
            "Folder of training images", placeholder="folder of images (or the manifest CSV)"
        )
        self.sample_button = QPushButton("Make sample data…")
        self.sample_button.setToolTip("Write a synthetic image–text set to try training with")
        self.data_path.layout().addWidget(self.sample_button)
        self.descriptions = FolderField(
            "Descriptions CSV",
            kind=FILE,
            file_filter=CSV_FILTER,
            placeholder="descriptions.csv (found beside the images if empty)",
        )
        self.base_kind = QComboBox()
        self.base_kind.addItems(BASES)
        self.base_path = FolderField("Hugging Face model folder")
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
        self.out = FolderField("Output folder for training runs", str(default_runs_folder()))
        self.summary = QLabel("")
        self.summary.setObjectName("summaryLabel")
        self.problem = QLabel("")
        self.problem.setObjectName("problemLabel")
        self.problem.setStyleSheet("color: #b00020; font-weight: bold;")
        self.estimate = QLabel("")
        self.estimate.setObjectName("estimateLabel")
        self.estimate.setStyleSheet("font-weight: bold;")
        two_lines = 2 * self.fontMetrics().lineSpacing() + 4
        for label in (self.summary, self.problem, self.estimate):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        for label in (self.summary, self.estimate):  # no jumping as their texts come and go
            label.setMinimumHeight(two_lines)
        self.estimator = TimeEstimator(self.estimate, self.settings, self)
        self.samples = SampleDataMaker(self, self.summary, self._use_sample_data)
        self.sample_button.clicked.connect(self.samples.ask)
        self.check_button = QPushButton("Check")
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        cancel = QPushButton("Close")
        self.check_button.clicked.connect(self.check)
        self.start_button.clicked.connect(self.start)
        cancel.clicked.connect(self.reject)

        self.form = QFormLayout()
        self.help_labels: dict[str, QLabel] = {}
        self._rows: dict[QWidget, QWidget] = {}  # field → its row (shown only where it applies)
        rows = (
            ("Data format", "data_format", self.data_format),
            ("Data", "data", self.data_path),
            ("Descriptions CSV", "descriptions", self.descriptions),
            ("Base model", "base_kind", self.base_kind),
            ("Model path", "base_path", self.base_path),
            ("Method", "method", self.method),
            ("Trainable last layers", "trainable_layers", self.trainable_layers),
            ("LoRA rank", "lora_rank", self.lora_r),
            ("Epochs", "epochs", self.epochs),
            ("Batch size", "batch_size", self.batch_size),
            ("Learning rate", "lr", self.lr),
            ("Device", "device", self.device),
            ("Run name", "name", self.name),
            ("Output folder", "out", self.out),
        )
        for title, key, widget in rows:
            self.form.addRow(title, self._with_help(key, widget))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.check_button, self.start_button, cancel):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.estimate)
        layout.addWidget(self.samples.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        for combo in (self.data_format, self.base_kind, self.method):
            combo.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    def _with_help(self, key: str, widget: QWidget) -> QWidget:
        """``widget`` above its plain help line (also its tooltip)."""
        help_label = QLabel(FIELD_HELP[key])
        help_label.setWordWrap(True)
        help_label.setStyleSheet("color: #52606d; font-size: 11px;")
        self.help_labels[key] = help_label
        widget.setToolTip(FIELD_HELP[key])
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(1)
        layout.addWidget(widget)
        layout.addWidget(help_label)
        self._rows[widget] = box
        return box

    def _show_row(self, widget: QWidget, shown: bool) -> None:
        widget.setEnabled(shown)
        self.form.setRowVisible(self._rows[widget], shown)

    def _update_enabled(self) -> None:
        seed_format = self.data_format.currentIndex() == 0
        self._show_row(self.descriptions, seed_format)
        if seed_format:
            self.data_path.set_choice("Folder of training images")
        else:
            self.data_path.set_choice("Manifest CSV", FILE, CSV_FILTER)
        base = self.base_kind.currentIndex()
        self._show_row(self.base_path, base != 0)
        if base == 1:
            self.base_path.set_choice("Hugging Face model folder", FOLDER)
        else:
            self.base_path.set_choice("OpenAI-format checkpoint", FILE, "Checkpoint (*.pth *.pt)")
        method = self.method.currentData()
        self._show_row(self.trainable_layers, method == "frozen")
        self._show_row(self.lora_r, method == "lora")
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the shown rows need at the dialog's width (wrapped help lines included)."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
            self.resize(DIALOG_WIDTH, layout.totalHeightForWidth(DIALOG_WIDTH))

    def _connect_estimate(self) -> None:
        """Every field that changes the run's length or speed updates the estimate."""
        for field in (self.data_path, self.descriptions, self.base_path):
            field.textChanged.connect(self.estimator.changed)
        for combo in (self.data_format, self.base_kind, self.method, self.device):
            combo.currentIndexChanged.connect(self.estimator.changed)
        for spin in (self.trainable_layers, self.lora_r, self.epochs, self.batch_size):
            spin.valueChanged.connect(self.estimator.changed)

    def _use_sample_data(self, folder: Path) -> None:
        """Fill the data fields with a freshly written synthetic set."""
        self.data_format.setCurrentIndex(0)
        self.descriptions.setText(str(folder / "descriptions.csv"))
        self.data_path.setText(str(folder / "images"))

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
        self.estimator.set_counts(SplitCounts(report.train, report.val, report.test))
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
