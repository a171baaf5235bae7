"""The recent-folders list (kept in QSettings) and its menu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMenu

SETTINGS_KEY = "recentFolders"
MAX_RECENT = 8


class RecentFolders(QObject):
    """Most recent first; ``chosen(Path)`` when the user picks one from ``menu``."""

    chosen = Signal(object)

    def __init__(self, menu: QMenu, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = menu
        self._rebuild()

    def folders(self) -> list[Path]:
        value = QSettings().value(SETTINGS_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [Path(v) for v in value or []]

    def add(self, folder: Path) -> None:
        folders = [folder] + [f for f in self.folders() if f != folder]
        QSettings().setValue(SETTINGS_KEY, [str(f) for f in folders[:MAX_RECENT]])
        self._rebuild()

    def _rebuild(self) -> None:
        self.menu.clear()
        folders = self.folders()
        for folder in folders:
            action = self.menu.addAction(str(folder))
            action.triggered.connect(lambda _checked=False, f=folder: self.chosen.emit(f))
        self.menu.setEnabled(bool(folders))
