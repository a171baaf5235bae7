""" "Map quality…": evaluate the maps of a folder with ground-truth masks in the background and
show the scores with 95 % confidence intervals and the mean deletion/insertion curves."""

from __future__ import annotations

import re
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.explain.evaluation.aggregate import METRICS
from medgrad_desktop.explain.evaluation.deletion import BASELINES
from medgrad_desktop.explain.evaluation.methods import available_methods
from medgrad_desktop.explain.evaluation.report import METRIC_TITLES, summary_text, title
from medgrad_desktop.explain.evaluation.runner import EvaluationSettings
from medgrad_desktop.paths import user_subdir
from medgrad_desktop.qt.map_quality.evaluation_job import EvaluationJob
from medgrad_desktop.qt.widgets.folder_field import FolderField

CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
DEFAULT_METHODS = ("gradcam", "gradeclip", "medgrad")


class MapQualityDialog(QDialog):
    """Settings, Start/Stop, progress, the score table and the curves."""

    def __init__(self, engine, folder: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mapQualityDialog")
        self.setWindowTitle("Map quality")
        self.engine = engine
        self.job: EvaluationJob | None = None
        self.metrics: dict | None = None
        self.data_field = FolderField(
            "Folder with images and masks",
            str(folder or ""),
            placeholder="a synthetic set or an ISIC 2018 Task 2 folder",
        )
        self.data_edit = self.data_field.edit
        self.data_edit.textChanged.connect(self._suggest_output)
        self.out_field = FolderField("Folder for the results")
        self.out_edit = self.out_field.edit
        self.method_boxes = {m: QCheckBox(title(m)) for m in available_methods()}
        for name, box in self.method_boxes.items():
            box.setChecked(name in DEFAULT_METHODS)
        self.baseline_combo = QComboBox()
        self.baseline_combo.addItems(BASELINES)
        self.steps_spin = QSpinBox(minimum=1, maximum=200, value=20)
        self.images_spin = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.images_spin.setSpecialValueText("all")
        self.radius_edit = QLineEdit("5")
        self.radius_edit.setToolTip("Entropy radius in pixels, or several for a sweep: 5,2,10")
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.report_button = QPushButton("Open report")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.open_report)
        self.progress = QProgressBar()
        self.status = QLabel("Choose a folder with masks and press Start.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(METRICS))
        self.table.setHorizontalHeaderLabels([METRIC_TITLES[m] for m in METRICS])
        self.plots = {
            kind: pg.PlotWidget(title=kind.capitalize()) for kind in ("deletion", "insertion")
        }
        self._build_layout()
        self._suggest_output()

    def _build_layout(self) -> None:
        methods = QWidget()
        row = QHBoxLayout(methods)
        row.setContentsMargins(0, 0, 0, 0)
        for box in self.method_boxes.values():
            row.addWidget(box)
        form = QFormLayout()
        form.addRow("Images with masks", self.data_field)
        form.addRow("Methods", methods)
        form.addRow("Deletion baseline", self.baseline_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Entropy radius", self.radius_edit)
        form.addRow("Images (0 = all)", self.images_spin)
        form.addRow("Results folder", self.out_field)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.report_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        curves = QHBoxLayout()
        for kind, plot in self.plots.items():
            plot.setBackground("w")
            plot.setLabel(
                "bottom", f"fraction of pixels {'removed' if kind == 'deletion' else 'restored'}"
            )
            plot.setLabel("left", "similarity to the prompt")
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.addLegend(offset=(-5, 5))
            curves.addWidget(plot)
        notice = QLabel(RESEARCH_NOTICE)
        notice.setStyleSheet("color: #8a1c1c; font-weight: bold")
        layout = QVBoxLayout(self)
        layout.addWidget(notice)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(curves, 1)
        self.resize(1100, 820)

    # -- settings ------------------------------------------------------------------------
    def _suggest_output(self) -> None:
        name = Path(self.data_edit.text().strip() or "maps").name or "maps"
        self.out_edit.setText(str(user_subdir("map-quality") / re.sub(r"[^\w.-]+", "_", name)))

    def settings(self) -> EvaluationSettings | None:
        """The chosen settings, or None (with a message) when they are not usable."""
        methods = tuple(m for m, box in self.method_boxes.items() if box.isChecked())
        if not methods:
            self.status.setText("Tick at least one method.")
            return None
        try:
            radii = tuple(float(p) for p in self.radius_edit.text().split(",") if p.strip())
        except ValueError:
            radii = ()
        if not radii or min(radii) < 1:
            self.status.setText("Type an entropy radius of at least 1 pixel, e.g. 5 or 5,2,10.")
            return None
        return EvaluationSettings(
            methods=methods,
            radii=radii,
            baseline=self.baseline_combo.currentText(),
            steps=self.steps_spin.value(),
        )

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        settings = self.settings()
        data = Path(self.data_edit.text().strip())
        if settings is None:
            return
        if not self.data_edit.text().strip() or not data.is_dir():
            self.status.setText("Choose a folder that exists.")
            return
        self.job = EvaluationJob()
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.stopped.connect(self._on_stopped)
        self._set_running(True)
        self.status.setText("Starting…")
        self.job.start(
            self.engine,
            data,
            settings,
            Path(self.out_edit.text().strip()),
            n=self.images_spin.value() or None,
        )

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping after the current image…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"{text} ({done} of {total})")

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.status.setText(message)

    def _on_stopped(self) -> None:
        self._set_running(False)
        self.status.setText("Stopped. Press Start with the same settings to continue.")

    def _on_finished(self, metrics: dict) -> None:
        self._set_running(False)
        self.show_metrics(metrics)
        self.report_button.setEnabled(True)
        self.status.setText(
            f"{metrics['n_images']} images, {metrics['n_masks']} masks, "
            f"{metrics['empty_masks_skipped']} empty masks skipped. Means with 95 % "
            "confidence intervals; grey rows are reference maps a method should beat."
        )

    # -- results -------------------------------------------------------------------------
    def show_metrics(self, metrics: dict) -> None:
        """Fill the table and the curves from a metrics.json dictionary."""
        self.metrics = metrics
        names = metrics["methods"] + metrics["reference_maps"]
        self.table.setRowCount(len(names))
        self.table.setVerticalHeaderLabels([title(n) for n in names])
        for row, name in enumerate(names):
            for column, metric in enumerate(METRICS):
                item = QTableWidgetItem(summary_text(metrics[name][metric]))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if name in metrics["reference_maps"]:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        fractions = metrics["curves_fractions"]
        for kind, plot in self.plots.items():
            plot.clear()
            for index, (name, curves) in enumerate(metrics["curves"].items()):
                style = (
                    Qt.PenStyle.DashLine
                    if name in metrics["reference_maps"]
                    else Qt.PenStyle.SolidLine
                )
                pen = pg.mkPen(CURVE_COLOURS[index % len(CURVE_COLOURS)], width=2, style=style)
                plot.plot(fractions, curves[kind], pen=pen, name=title(name))

    def open_report(self) -> None:
        report = Path(self.out_edit.text().strip()) / "report.html"
        if report.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))

    def closeEvent(self, event) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
        super().closeEvent(event)
