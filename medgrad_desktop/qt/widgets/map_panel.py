"""One panel of the comparison: a title row, a pyqtgraph view of the image (+ map overlay),
a crosshair, and the map's value under the cursor."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from medgrad_desktop.explain.colormaps import COLORMAPS, lut

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

NO_EVIDENCE_TEXT = "no positive evidence"
CROSSHAIR_PEN = pg.mkPen((0, 230, 255), width=1, style=Qt.PenStyle.DashLine)


class MapPanel(QWidget):
    """Shows the image, and for map panels the map overlay with a colormap at fixed levels 0–1.

    Signals: ``hovered(x, y)`` in image pixels (None, None when the cursor leaves),
    ``resetRequested`` on a double-click, ``menuRequested(global QPoint)`` on a right-click.
    """

    hovered = Signal(object, object)
    resetRequested = Signal()
    menuRequested = Signal(object)

    def __init__(self, title: str, with_overlay: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.base_title = title
        self.title = QLabel(title)
        self.title.setStyleSheet("font-weight: bold")
        self.readout = QLabel("")
        self.readout.setObjectName("valueReadout")
        self.readout.setToolTip("The map's value under the cursor (0–1 of this map's maximum)")
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
        self.graphics.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.graphics.customContextMenuRequested.connect(
            lambda pos: self.menuRequested.emit(self.graphics.mapToGlobal(pos))
        )
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
        self.crosshair = (
            pg.InfiniteLine(angle=90, movable=False, pen=CROSSHAIR_PEN),
            pg.InfiniteLine(angle=0, movable=False, pen=CROSSHAIR_PEN),
        )
        for line in self.crosshair:
            line.setZValue(2)
            line.hide()
            self.view_box.addItem(line, ignoreBounds=True)
        self.map: np.ndarray | None = None
        scene = self.graphics.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)

        header = QHBoxLayout()
        header.setContentsMargins(2, 0, 2, 0)
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.readout)
        header.addWidget(self.notice)
        header.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.graphics, 1)

    # -- content ----------------------------------------------------------------------------
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
        self.readout.clear()
        if self.overlay_item is not None:
            self.overlay_item.clear()

    def set_title(self, text: str) -> None:
        self.title.setText(text)

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

    # -- cursor -----------------------------------------------------------------------------
    def image_shape(self) -> tuple[int, int] | None:
        image = self.image_item.image
        return None if image is None else image.shape[:2]

    def show_cursor(self, x: float | None, y: float | None) -> None:
        """Put the crosshair at image pixel (x, y) and show the map's value there."""
        shape = self.image_shape()
        inside = x is not None and shape is not None and 0 <= x < shape[1] and 0 <= y < shape[0]
        for line in self.crosshair:
            line.setVisible(inside)
        if not inside:
            self.readout.clear()
            return
        self.crosshair[0].setValue(x)
        self.crosshair[1].setValue(y)
        column, row = int(x), int(y)
        if self.overlay_item is None:
            self.readout.setText(f"x {column}, y {row}")
        elif self.map is not None:
            self.readout.setText(f"value {float(self.map[row, column]):.2f}")
        else:
            self.readout.clear()

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            self.hovered.emit(None, None)
            return
        point = self.view_box.mapSceneToView(scene_pos)
        self.hovered.emit(point.x(), point.y())

    def _on_mouse_clicked(self, event) -> None:
        if event.double() and event.button() == Qt.MouseButton.LeftButton:
            self.resetRequested.emit()

    def leaveEvent(self, event) -> None:
        self.hovered.emit(None, None)
        super().leaveEvent(event)
