"""A non-blocking warning message box (window-modal, deleted when closed)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def show_warning(parent: QWidget, title: str, message: str, object_name: str = "") -> QMessageBox:
    """Open a warning box over ``parent`` without blocking the event loop; returns it."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok)
    box.setParent(parent, box.windowFlags())
    if object_name:
        box.setObjectName(object_name)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
