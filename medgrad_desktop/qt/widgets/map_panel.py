"""One panel of the comparison: a title row and a pyqtgraph view of the image (+ map overlay)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from medgrad_desktop.explain.colormaps import COLORMAPS, lut

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

NO_EVIDENCE_TEXT = "no positive evidence"


class MapPanel(QWidget):
    """Shows the image, and for map panels the map overlay with a colormap at fixed levels 0–1."""

    def __init__(self, title: str, with_overlay: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-weight: bold")
        self.notice = QLabel(NO_EVIDENCE_TEXT)
        self.notice.setStyleSheet("color: #b35900")
        self.notice.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: the model is working
        self.busy.setMaximumWidth(70)
        self.busy.setMaximumHeight(12)
        self.busy.setTextVisible(False)
        self.busy.hide()

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202020")
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view_box: pg.ViewBox = self.graphics.addViewBox()
        self.view_box.setAspectLocked(True)
        self.view_box.invertY(True)
        self.view_box.setMenuEnabled(False)
        self.image_item = pg.ImageItem()
        self.view_box.addItem(self.image_item)
        self.overlay_item: pg.ImageItem | None = None
        if with_overlay:
            self.overlay_item = pg.ImageItem()
            self.overlay_item.setZValue(1)
            self.overlay_item.setLookupTable(lut(COLORMAPS[0]))
            self.overlay_item.setOpacity(0.55)
            self.view_box.addItem(self.overlay_item)
        self.map: np.ndarray | None = None

        header = QHBoxLayout()
        header.setContentsMargins(2, 0, 2, 0)
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.notice)
        header.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.graphics, 1)

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show an (H, W, 3) uint8 image (or nothing); an old overlay is cleared."""
        self.clear_map()
        if rgb is None:
            self.image_item.clear()
            return
        self.image_item.setImage(rgb, autoLevels=False)  # uint8 RGB: no level scaling

    def set_map(self, display_map: np.ndarray, positive: bool) -> None:
        """Overlay an (H, W) float32 map in [0, 1]; an all-zero map shows "no positive evidence"."""
        if self.overlay_item is None:
            raise ValueError("The original-image panel has no map overlay.")
        self.map = np.ascontiguousarray(display_map, dtype=np.float32)
        self.overlay_item.setImage(self.map, levels=(0.0, 1.0), autoLevels=False)
        self.notice.setVisible(not positive)

    def clear_map(self) -> None:
        self.map = None
        self.notice.hide()
        if self.overlay_item is not None:
            self.overlay_item.clear()

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)

    def set_opacity(self, opacity: float) -> None:
        if self.overlay_item is not None:
            self.overlay_item.setOpacity(opacity)

    def set_overlay_visible(self, visible: bool) -> None:
        if self.overlay_item is not None:
            self.overlay_item.setVisible(visible)

    def set_colormap(self, name: str) -> None:
        if self.overlay_item is not None:
            self.overlay_item.setLookupTable(lut(name))
