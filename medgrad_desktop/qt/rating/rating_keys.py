"""The rating keys, in one place: Tab / Shift+Tab move the framed panel, 1–5 rate it,
Ctrl+Z undoes the last score of the case, Page Down / Page Up change the case.

Installed on the application while rating mode is on, so the keys work wherever the
keyboard focus is inside the rating window (typing in a comment box keeps its digits and
its own Ctrl+Z).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QTextEdit, QWidget

_DIGITS = {getattr(Qt.Key, f"Key_{score}"): score for score in (1, 2, 3, 4, 5)}
_TEXT_INPUTS = (QLineEdit, QTextEdit, QAbstractSpinBox)


class RatingKeys(QObject):
    """Routes the rating keys of ``window`` to ``controller`` (a ``RatingController``)."""

    def __init__(self, window: QWidget, controller) -> None:
        super().__init__(controller)
        self.window, self.controller = window, controller

    def install(self) -> None:
        QApplication.instance().installEventFilter(self)

    def remove(self) -> None:
        QApplication.instance().removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self.window:  # e.g. a dialog over the window: its own keys
            return False
        return self._handle(event, isinstance(QApplication.focusWidget(), _TEXT_INPUTS))

    def _handle(self, event, typing: bool) -> bool:
        key, modifiers = event.key(), event.modifiers()
        control = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not control:
            self.controller.move_current(-1 if key == Qt.Key.Key_Backtab else 1)
            return True
        if typing:
            return False
        if key in _DIGITS and not control:
            self.controller.rate_current(_DIGITS[key])
            return True
        if key == Qt.Key.Key_Z and control:
            self.controller.undo()
            return True
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.controller.step_case(1 if key == Qt.Key.Key_PageDown else -1)
            return True
        return False
