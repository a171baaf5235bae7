"""The labels tab: load labels, then the confusion matrix (a cell lists its images), the
failure gallery (confident mistakes, unsure successes) and the reliability diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.browse.triage import (
    CONFIDENT_WRONG,
    UNSURE_RIGHT,
    GalleryItem,
    Triage,
    reliability_bins,
)
from medgrad_desktop.qt.browse.image_grid import GridEntry, ImageGrid


def _entry(item: GalleryItem) -> GridEntry:
    return GridEntry(
        item.name,
        f"{Path(item.name).name}\ntrue: {item.true_label}",
        f"{item.predicted_label} {item.confidence:.2f}",
    )


class ConfusionTable(QTableWidget):
    """Rows: true class; columns: predicted class; a cell's shade grows with its share of the
    row. ``cellChosen(true, predicted)`` on click."""

    cellChosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionTable")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.cellClicked.connect(self.cellChosen)

    def show_matrix(self, labels: list[str], matrix: np.ndarray) -> None:
        self.clear()
        self.setRowCount(len(labels))
        self.setColumnCount(len(labels))
        self.setHorizontalHeaderLabels([f"model: {label}" for label in labels])
        self.setVerticalHeaderLabels([f"true: {label}" for label in labels])
        for row in range(len(labels)):
            total = max(int(matrix[row].sum()), 1)
            for col in range(len(labels)):
                count = int(matrix[row, col])
                share = count / total
                percent = "<1%" if 0 < share < 0.01 else f"{share:.0%}"
                item = QTableWidgetItem(f"{count}\n{percent} of row")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                base = (40, 110, 200) if row == col else (210, 60, 40)
                shade = QColor(*base, int(30 + 200 * share) if count else 0)
                item.setBackground(QBrush(shade))
                item.setToolTip("Click to list these images")
                self.setItem(row, col, item)


class ReliabilityPlot(pg.PlotWidget):
    """Share correct per confidence bin against the diagonal of perfect calibration."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setLabel("bottom", "confidence of the predicted class")
        self.setLabel("left", "share correct")
        self.setXRange(0, 1)
        self.setYRange(0, 1)
        self.showGrid(x=True, y=True, alpha=0.3)
        self.setMouseEnabled(False, False)

    def show_triage(self, triage: Triage, ece: float) -> None:
        self.clear()
        all_bins = reliability_bins(triage.confidence, triage.correct)
        width = all_bins[0].high - all_bins[0].low
        bins = [b for b in all_bins if b.count]
        bars = pg.BarGraphItem(
            x=[(b.low + b.high) / 2 for b in bins],
            height=[b.accuracy for b in bins],
            width=width * 0.9,
            brush=QColor(60, 120, 200, 170),
            pen=pg.mkPen("k"),
        )
        self.addItem(bars)
        self.plot([0, 1], [0, 1], pen=pg.mkPen("grey", width=2, style=Qt.PenStyle.DashLine))
        self.plot(
            [b.mean_confidence for b in bins],
            [b.accuracy for b in bins],
            pen=None,
            symbol="o",
            symbolBrush="#e07020",
        )
        for b in bins:
            label = pg.TextItem(f"n={b.count}", color="k", anchor=(0.5, 1.0))
            label.setPos((b.low + b.high) / 2, min(b.accuracy, 0.93) + 0.06)
            self.addItem(label)
        self.setTitle(f"Reliability: ECE {ece:.3f} over {len(triage.names)} images", color="k")


class TriagePanel(QWidget):
    """Shows a ``Triage``; emits ``loadRequested()``, ``subfoldersRequested()`` and
    ``openRequested(path)`` when any tile is clicked."""

    loadRequested = Signal()
    subfoldersRequested = Signal()
    openRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.load_button = QPushButton("Load labels (CSV)…")
        self.load_button.setToolTip("A CSV with columns image,label, or an ISIC ground-truth CSV")
        self.subfolder_button = QPushButton("Use class subfolders")
        self.summary = QLabel("Load the true labels to see where the model fails.")
        self.summary.setObjectName("triageSummary")
        self.summary.setWordWrap(True)
        self.table = ConfusionTable()
        self.cell_title = QLabel("Click a cell to list its images.")
        self.cell_grid = ImageGrid()
        self.wrong_grid, self.right_grid = ImageGrid(), ImageGrid()
        self.reliability = ReliabilityPlot()
        self.tabs = QTabWidget()
        self._folder = Path()
        self._triage: Triage | None = None
        self._layout()
        self.load_button.clicked.connect(self.loadRequested)
        self.subfolder_button.clicked.connect(self.subfoldersRequested)
        self.table.cellChosen.connect(self.show_cell)
        for grid in (self.cell_grid, self.wrong_grid, self.right_grid):
            grid.imageClicked.connect(self.openRequested)

    def _layout(self) -> None:
        confusion = QSplitter(Qt.Orientation.Vertical)
        confusion.addWidget(self.table)
        cell_box = QWidget()
        cell_layout = QVBoxLayout(cell_box)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.addWidget(self.cell_title)
        cell_layout.addWidget(self.cell_grid, 1)
        confusion.addWidget(cell_box)
        gallery = QWidget()
        gallery_layout = QVBoxLayout(gallery)
        self.wrong_title = QLabel(f"<b>{CONFIDENT_WRONG.capitalize()}</b>")
        self.right_title = QLabel(f"<b>{UNSURE_RIGHT.capitalize()}</b>")
        gallery_layout.addWidget(self.wrong_title)
        gallery_layout.addWidget(self.wrong_grid, 1)
        gallery_layout.addWidget(self.right_title)
        gallery_layout.addWidget(self.right_grid, 1)
        self.tabs.addTab(confusion, "Confusion matrix")
        self.tabs.addTab(gallery, "Failure gallery")
        self.tabs.addTab(self.reliability, "Reliability")
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.subfolder_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

    def show_triage(self, folder: Path, triage: Triage, warnings: list[str]) -> None:
        self._folder, self._triage = Path(folder), triage
        metrics = triage.metrics()
        text = (
            f"<b>{metrics['images']} labelled images</b> · accuracy {metrics['accuracy']:.1%} · "
            f"macro-F1 {metrics['macro_f1']:.3f} · calibration error (ECE) {metrics['ece']:.3f}"
        )
        if warnings:
            text += "<br>" + "<br>".join(warnings)
        self.summary.setText(text)
        self.table.show_matrix(triage.class_labels, np.array(metrics["confusion_matrix"]))
        items = triage.gallery(len(triage.names))  # all of them: the grids are virtualised
        wrong = [_entry(i) for i in items if i.group == CONFIDENT_WRONG]
        right = [_entry(i) for i in items if i.group == UNSURE_RIGHT]
        self.wrong_title.setText(f"<b>Confident mistakes</b> ({len(wrong)}, most confident first)")
        self.right_title.setText(f"<b>Unsure successes</b> ({len(right)}, least confident first)")
        self.wrong_grid.set_entries(self._folder, wrong)
        self.right_grid.set_entries(self._folder, right)
        self.reliability.show_triage(triage, metrics["ece"])
        self.cell_grid.set_entries(self._folder, [])
        self.cell_title.setText("Click a cell to list its images.")

    def show_cell(self, true: int, predicted: int) -> None:
        if self._triage is None:
            return
        names = self._triage.confusion_cells().get((true, predicted), [])
        rows = {name: row for row, name in enumerate(self._triage.names)}
        labels = self._triage.class_labels
        entries = [
            GridEntry(
                name,
                Path(name).name,
                f"{labels[predicted]} {self._triage.confidence[rows[name]]:.2f}",
            )
            for name in names
        ]
        self.cell_title.setText(
            f"True {labels[true]}, model said {labels[predicted]}: {len(names)} image(s)"
        )
        self.cell_grid.set_entries(self._folder, entries)

    def shutdown(self) -> None:
        for grid in (self.cell_grid, self.wrong_grid, self.right_grid):
            grid.shutdown()
