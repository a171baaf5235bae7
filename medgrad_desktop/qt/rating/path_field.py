"""A file or folder path shown in full: elided in the middle when it does not fit, the whole
path in the tooltip, chosen with a Browse… button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A one-line label that elides its full text in the middle to fit its width."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text, self.placeholder = "", placeholder
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet("QLabel { border: 1px solid #bcccdc; border-radius: 3px; padding: 2px }")
        self.set_full_text("")

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        if not self.full_text:
            self.setTextFormat(Qt.TextFormat.RichText)
            super().setText(f"<i>{self.placeholder}</i>")
            return
        width = max(self.width() - 8, 40)
        metrics = self.fontMetrics()
        self.setTextFormat(Qt.TextFormat.PlainText)
        super().setText(metrics.elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width))


class PathField(QWidget):
    """``changed(path)`` whenever the path changes (by Browse… or ``set_path``)."""

    changed = Signal(str)

    def __init__(
        self, browse: Callable[[str], str], placeholder: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._browse = browse
        self.label = ElidedLabel(placeholder)
        self.button = QPushButton("Browse…")
        self.button.clicked.connect(self._on_browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)

    def path(self) -> str:
        return self.label.full_text

    def set_path(self, path: str) -> None:
        if path != self.label.full_text:
            self.label.set_full_text(path)
            self.changed.emit(path)

    def _on_browse(self) -> None:
        chosen = self._browse(self.path())
        if chosen:
            self.set_path(chosen)
