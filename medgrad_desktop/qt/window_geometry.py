"""The window's size: 1260×740 by default (fits a 1280×800 screen with a title bar and a
panel), and a restored geometry clamped to the screen it lands on."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

DEFAULT_SIZE = (1260, 740)


def clamped(frame: QRect, available: QRect) -> QRect:
    """``frame`` shrunk to fit ``available`` and moved inside it."""
    width = min(frame.width(), available.width())
    height = min(frame.height(), available.height())
    left = min(max(frame.left(), available.left()), available.right() - width + 1)
    top = min(max(frame.top(), available.top()), available.bottom() - height + 1)
    return QRect(left, top, width, height)


def clamp_to_screen(window: QWidget) -> None:
    """Keep ``window`` (frame included) on the available area of its screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    frame, inner = window.frameGeometry(), window.geometry()
    target = clamped(frame, available)
    if target != frame:
        window.setGeometry(
            target.left() + inner.left() - frame.left(),
            target.top() + inner.top() - frame.top(),
            target.width() - (frame.width() - inner.width()),
            target.height() - (frame.height() - inner.height()),
        )
