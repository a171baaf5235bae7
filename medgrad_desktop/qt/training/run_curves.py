"""Loss and accuracy curves of a run (pyqtgraph): training loss per step, validation loss and
zero-shot accuracy per epoch, plotted against the optimiser step."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from training.job_progress import RunProgress

LOSS_EXPLANATION = (
    "<span style='color:#1f77b4'>■ training loss</span> (each step) and "
    "<span style='color:#d62728'>● validation loss</span> (each epoch, on images the model "
    "does not learn from): lower is better; validation rising while training falls means "
    "the model is memorising. <span style='color:#2ca02c'>● Accuracy</span>: share of "
    "validation images whose class the model names correctly."
)


class IntegerAxis(pg.AxisItem):
    """An axis of optimiser steps: ticks only at whole numbers."""

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        whole = [
            (max(spacing, 1), [v for v in values if float(v).is_integer()])
            for spacing, values in levels
        ]
        return [level for level in whole if level[1]] or [(1, [float(round(minVal))])]

    def tickStrings(self, values, scale, spacing):
        return [str(round(v)) for v in values]


def _plot(title: str, left: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w", axisItems={"bottom": IntegerAxis("bottom")})
    plot.setTitle(title, color="k")
    plot.setLabel("left", left)
    plot.setLabel("bottom", "step")
    plot.showGrid(x=True, y=True, alpha=0.3)
    plot.setMinimumHeight(160)
    return plot


class RunCurves(QWidget):
    """Two plots; :meth:`show_progress` redraws them from a ``RunProgress``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("Loss", "loss")
        self.accuracy_plot = _plot("Validation zero-shot accuracy", "accuracy")
        self.accuracy_plot.setYRange(0.0, 1.0)
        self.train_loss = self.loss_plot.plot(
            [], [], pen=pg.mkPen("#1f77b4", width=2), name="train"
        )
        self.val_loss = self.loss_plot.plot(
            [],
            [],
            pen=pg.mkPen("#d62728", width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush="#d62728",
            name="validation",
        )
        self.accuracy = self.accuracy_plot.plot(
            [],
            [],
            pen=pg.mkPen("#2ca02c", width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush="#2ca02c",
            name="validation",
        )
        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.accuracy_plot)
        self.legend = QLabel(LOSS_EXPLANATION)  # outside the plots, never over a curve
        self.legend.setObjectName("curvesLegend")
        self.legend.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)

    def show_progress(self, progress: RunProgress | None) -> None:
        pairs = {
            self.train_loss: progress.train_losses if progress else [],
            self.val_loss: progress.val_losses if progress else [],
            self.accuracy: progress.val_accuracy if progress else [],
        }
        for curve, points in pairs.items():
            curve.setData([p[0] for p in points], [p[1] for p in points])

    def point_counts(self) -> dict[str, int]:
        """How many points each curve shows (for tests and the status line)."""
        return {
            "train_loss": len(self.train_loss.xData if self.train_loss.xData is not None else []),
            "val_loss": len(self.val_loss.xData if self.val_loss.xData is not None else []),
            "accuracy": len(self.accuracy.xData if self.accuracy.xData is not None else []),
        }
