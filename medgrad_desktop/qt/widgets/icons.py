"""Small icons drawn at run time (no image files needed)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

ICON_SIDE = 48


def placeholder_icon() -> QIcon:
    """A neutral grey square shown while a thumbnail loads."""
    pixmap = QPixmap(ICON_SIDE, ICON_SIDE)
    pixmap.fill(QColor(200, 200, 200))
    return QIcon(pixmap)


def unreadable_icon() -> QIcon:
    """The ⊘ sign for files that cannot be read."""
    pixmap = QPixmap(ICON_SIDE, ICON_SIDE)
    pixmap.fill(QColor(250, 235, 235))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(180, 30, 30))
    font = QFont()
    font.setPixelSize(int(ICON_SIDE * 0.7))
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, ICON_SIDE, ICON_SIDE), Qt.AlignmentFlag.AlignCenter, "⊘")
    painter.end()
    return QIcon(pixmap)
