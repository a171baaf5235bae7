"""The list of image files in a folder, with thumbnails fetched only for rows that are shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap

from medgrad_desktop.qt.widgets.icons import placeholder_icon, unreadable_icon
from medgrad_desktop.qt.widgets.thumbnail_loader import ThumbnailLoader

EMPTY_FILE_MESSAGE = "This file is empty (0 bytes); it holds no image."
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_ROLE = Qt.ItemDataRole.UserRole + 2


class FolderModel(QAbstractListModel):
    """Rows are the images of one folder; a row's thumbnail is requested only when a view asks
    for its decoration (i.e. when the row is painted). ``unreadableChanged`` when a row turns
    out to be unreadable; ``skipped`` counts the files the listing could not even list."""

    unreadableChanged = Signal()

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._folder = Path()
        self._names: list[str] = []
        self._rows: dict[str, int] = {}
        self._icons: dict[Path, QIcon] = {}
        self._errors: dict[Path, str] = {}
        self.skipped = 0
        self._placeholder = placeholder_icon()
        self._unreadable = unreadable_icon()
        loader.thumbnailReady.connect(self._on_thumbnail)
        loader.thumbnailFailed.connect(self.mark_unreadable)

    def set_folder(self, folder: Path, names: list[str], skipped: int = 0) -> None:
        self.beginResetModel()
        self.skipped = skipped
        self._loader.reset()
        self._folder, self._names = folder, list(names)
        self._rows = {name: row for row, name in enumerate(self._names)}
        self._icons.clear()
        self._errors.clear()
        self.endResetModel()

    def mark_empty_files(self) -> None:
        """Mark zero-byte files (a cheap stat each) so they are called empty at once."""
        for path in self.paths():
            try:
                empty = path.stat().st_size == 0
            except OSError:
                continue  # reported when the thumbnail or the image is read
            if empty:
                self.mark_unreadable(path, EMPTY_FILE_MESSAGE)

    def unreadable(self) -> int:
        """Files that cannot be read: listed rows marked ⊘ plus entries left out of the list."""
        return len(self._errors) + self.skipped

    def paths(self) -> list[Path]:
        return [self._folder / name for name in self._names]

    def path_at(self, row: int) -> Path:
        return self._folder / self._names[row]

    def row_of(self, path: Path) -> int:
        return self._rows.get(path.name, -1) if path.parent == self._folder else -1

    def error_of(self, path: Path) -> str | None:
        return self._errors.get(path)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._names)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._names):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._names[index.row()]
        path = self.path_at(index.row())
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
        new = path not in self._errors
        self._errors[path] = message
        self._changed(path)
        if new:
            self.unreadableChanged.emit()

    def _on_thumbnail(self, path: Path, image: QImage) -> None:
        self._icons[path] = QIcon(QPixmap.fromImage(image))
        self._changed(path)

    def _changed(self, path: Path) -> None:
        row = self.row_of(path)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index)
