"""The list of image files in a folder, with thumbnails fetched only for rows that are shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap

from medgrad_desktop.explain.images import is_image_file
from medgrad_desktop.qt.widgets.icons import placeholder_icon, unreadable_icon
from medgrad_desktop.qt.widgets.thumbnail_loader import ThumbnailLoader

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_ROLE = Qt.ItemDataRole.UserRole + 2


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural name order (names only, nothing decoded)."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if is_image_file(Path(e.name)) and e.is_file()]
    names.sort(key=_natural_key)
    return [folder / name for name in names]


class FolderModel(QAbstractListModel):
    """Rows are image paths; the decoration is requested lazily when a view asks for it."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._paths: list[Path] = []
        self._rows: dict[Path, int] = {}
        self._icons: dict[Path, QIcon] = {}
        self._errors: dict[Path, str] = {}
        self._placeholder = placeholder_icon()
        self._unreadable = unreadable_icon()
        loader.thumbnailReady.connect(self._on_thumbnail)
        loader.thumbnailFailed.connect(self.mark_unreadable)

    def set_paths(self, paths: list[Path]) -> None:
        self.beginResetModel()
        self._loader.reset()
        self._paths = list(paths)
        self._rows = {path: row for row, path in enumerate(self._paths)}
        self._icons.clear()
        self._errors.clear()
        self.endResetModel()

    def paths(self) -> list[Path]:
        return list(self._paths)

    def row_of(self, path: Path) -> int:
        return self._rows.get(path, -1)

    def error_of(self, path: Path) -> str | None:
        return self._errors.get(path)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._paths)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._paths):
            return None
        path = self._paths[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return path.name
        if role == Qt.ItemDataRole.DecorationRole:
            if path in self._errors:
                return self._unreadable
            icon = self._icons.get(path)
            if icon is None:
                self._loader.request(path)  # only rows a view paints are ever decoded
                return self._placeholder
            return icon
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._errors.get(path, str(path))
        if role == PATH_ROLE:
            return path
        if role == ERROR_ROLE:
            return self._errors.get(path)
        return None

    def mark_unreadable(self, path: Path, message: str) -> None:
        """Show ``path`` with the ⊘ icon and ``message`` as its tooltip."""
        self._errors[path] = message
        self._changed(path)

    def _on_thumbnail(self, path: Path, image: QImage) -> None:
        self._icons[path] = QIcon(QPixmap.fromImage(image))
        self._changed(path)

    def _changed(self, path: Path) -> None:
        row = self._rows.get(path, -1)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index)
