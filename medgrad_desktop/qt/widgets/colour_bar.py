"""A horizontal colour bar from 0 to 1 for the current colormap."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from medgrad_desktop.explain.colormaps import COLORMAPS, lut

SCALE_TEXTS = ("0", "1 · relative to each map's own maximum")


class ColourBar(QWidget):
    """Paints the colormap's 256 colours from 0 to 1, each map's own maximum (every map is
    scaled to its own range, so colours compare places within a map, not across maps)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(34)
        self.setToolTip(
            "Each map is scaled from 0 to its own maximum: colours compare places within one "
            "map, not strength between maps or images."
        )
        self.set_colormap(COLORMAPS[0])

    def set_colormap(self, name: str) -> None:
        table = lut(name)
        image = QImage(256, 1, QImage.Format.Format_RGB32)
        for x, (r, g, b, _a) in enumerate(table):
            image.setPixelColor(x, 0, QColor(int(r), int(g), int(b)))
        self._image = image
        self.colormap = name
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(400, 34)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        left_text, right_text = SCALE_TEXTS
        left_w = metrics.horizontalAdvance(left_text) + 8
        right_w = metrics.horizontalAdvance(right_text) + 8
        bar = QRect(left_w, 6, max(10, self.width() - left_w - right_w), self.height() - 12)
        painter.drawImage(bar, self._image)
        painter.setPen(self.palette().windowText().color())
        painter.drawRect(bar.adjusted(0, 0, -1, -1))
        painter.drawText(
            QRect(0, 0, left_w - 4, self.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            left_text,
        )
        painter.drawText(
            QRect(bar.right() + 4, 0, right_w, self.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            right_text,
        )
        painter.end()
