"""The comparison shown while rating: the original and the blinded maps A, B, C (D) in cells
of one size, so no panel position looks different from another.

Every cell holds a view of the same size: map cells have their rating row below, the
original cell a blank strip of the same height. All views are linked, so zoom and pan are
identical everywhere. Maps are set in one go, so no panel is revealed before another.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from medgrad_desktop.engine.api import MapsResult
from medgrad_desktop.qt.widgets.colour_bar import ColourBar
from medgrad_desktop.qt.widgets.map_panel import MapPanel


def _cell(panel: MapPanel, below: QWidget) -> QWidget:
    cell = QWidget()
    layout = QVBoxLayout(cell)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(panel, 1)
    layout.addWidget(below)
    return cell


class EqualCells(QWidget):
    """Lays ``cells`` out in a grid of ``columns``, every cell exactly the same size (a grid
    layout hands leftover pixels to some cells, which would make one panel differ)."""

    GAP = 6
    MIN_SIDE = 140

    def __init__(self, cells: Sequence[QWidget], columns: int) -> None:
        super().__init__()
        self.cells, self.columns = list(cells), columns
        self.rows = (len(self.cells) + columns - 1) // columns
        for cell in self.cells:
            cell.setParent(self)

    def minimumSizeHint(self) -> QSize:
        return QSize(
            self.columns * (self.MIN_SIDE + self.GAP), self.rows * (self.MIN_SIDE + self.GAP)
        )

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint() * 2

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        width = (self.width() - self.GAP * (self.columns - 1)) // self.columns
        height = (self.height() - self.GAP * (self.rows - 1)) // self.rows
        for position, cell in enumerate(self.cells):
            row, column = divmod(position, self.columns)
            cell.setGeometry(column * (width + self.GAP), row * (height + self.GAP), width, height)


class BlindedComparison(QWidget):
    """``panels[i]`` shows the map of the method in blinded position ``i``."""

    def __init__(self, footers: Sequence[QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("blindedComparison")
        self.original = MapPanel("Original", with_overlay=False)
        self.panels = [MapPanel("") for _ in footers]
        height = max(f.sizeHint().height() for f in footers)
        for footer in footers:
            footer.setFixedHeight(height)
        spacer = QWidget()
        spacer.setFixedHeight(height)
        cells = [_cell(self.original, spacer)]
        cells += [_cell(p, f) for p, f in zip(self.panels, footers, strict=True)]
        self.cells = EqualCells(cells, columns=2 if len(self.panels) <= 3 else 3)
        lead = self.panels[0].view_box
        for panel in [self.original, *self.panels[1:]]:
            panel.view_box.setXLink(lead)
            panel.view_box.setYLink(lead)
        self.colour_bar = ColourBar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.cells, 1)
        layout.addWidget(self.colour_bar)
        self.image: np.ndarray | None = None

    def all_panels(self) -> list[MapPanel]:
        return [self.original, *self.panels]

    def set_titles(self, labels: Sequence[str]) -> None:
        for panel, label in zip(self.panels, labels, strict=True):
            panel.title.setText(label)

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show the case's image in every panel (maps cleared) and fit it to the views."""
        self.image = rgb
        for panel in self.all_panels():
            panel.set_image(rgb)
        self.fit()

    def fit(self) -> None:
        if self.image is not None:
            self.panels[0].view_box.autoRange(padding=0.01)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self.fit)  # once the cells have their new sizes

    def set_maps(self, result: MapsResult, methods: Sequence[str]) -> None:
        """Overlay every method's map in its position at once (``methods[i]`` → panel i)."""
        for panel, method in zip(self.panels, methods, strict=True):
            if method in result.maps:
                panel.set_map(result.maps[method], result.positive.get(method, True))
            else:
                panel.clear_map()

    def clear_maps(self) -> None:
        for panel in self.panels:
            panel.clear_map()

    def set_opacity(self, opacity: float) -> None:
        for panel in self.panels:
            panel.set_opacity(opacity)

    def set_colormap(self, name: str) -> None:
        for panel in self.panels:
            panel.set_colormap(name)
        self.colour_bar.set_colormap(name)

    def set_overlays_visible(self, visible: bool) -> None:
        for panel in self.panels:
            panel.set_overlay_visible(visible)
