"""The image list: filter box, lazily thumbnailed rows, next/previous navigation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from medgrad_desktop.explain.images import IMAGE_SUFFIXES
from medgrad_desktop.explain.listing import list_images
from medgrad_desktop.qt.widgets.folder_model import PATH_ROLE, FolderModel
from medgrad_desktop.qt.widgets.thumbnail_loader import ThumbnailLoader

ICON_SIZE = QSize(40, 40)


class FolderBrowser(QWidget):
    """Lists the images of one folder. Emits ``currentPathChanged`` when the selection moves."""

    currentPathChanged = Signal(object)  # Path | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.skipped_summary = ""
        self.loader = ThumbnailLoader(self)
        self.model = FolderModel(self.loader, self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self.model)
        self._proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.title = QLabel("Images")
        self.title.setStyleSheet("font-weight: bold")
        self.title.setWordWrap(True)
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter file names")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.textChanged.connect(self._on_filter)
        self.no_match = QLabel()
        self.no_match.setObjectName("noMatch")
        self.no_match.setWordWrap(True)
        self.no_match.setStyleSheet("color: #5c4400; padding: 6px")
        self.no_match.hide()
        self.view = QListView()
        self.view.setModel(self._proxy)
        self.view.setUniformItemSizes(True)  # constant-time layout for thousands of rows
        self.view.setIconSize(ICON_SIZE)
        self.view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.no_match)
        layout.addWidget(self.view)
        self.model.unreadableChanged.connect(self._update_title)

    def set_folder(self, folder: Path) -> int:
        """List ``folder`` (names only; thumbnails follow in the background). Returns the count.

        Raises ``OSError`` if the folder cannot be listed; entries that cannot be listed are
        left out and described in ``skipped_summary``."""
        listing = list_images(folder, IMAGE_SUFFIXES)
        names = listing.names
        self.skipped_summary = listing.summary()
        self.folder = folder
        self.model.set_folder(folder, names, skipped=len(listing.skipped))
        self.model.mark_empty_files()
        self.title.setToolTip(str(folder))
        self._update_title()
        if names:
            self.select_row(0)
        else:
            self.currentPathChanged.emit(None)
        return len(names)

    def header_text(self) -> str:
        """ "lesions — 12 images, 3 cannot be read · 4 of 15 shown" (parts only when needed)."""
        if self.folder is None:
            return "Images"
        total, unreadable = self.model.rowCount() + self.model.skipped, self.model.unreadable()
        text = f"{self.folder.name} — {total - unreadable} images"
        if unreadable:
            text += f", {unreadable} cannot be read"
        if self.filter_box.text():
            text += f" · {self._proxy.rowCount()} of {self.model.rowCount()} shown"
        return text

    def _update_title(self) -> None:
        self.title.setText(self.header_text())

    def _on_filter(self, text: str) -> None:
        self._proxy.setFilterFixedString(text)
        shown = self._proxy.rowCount()
        self.no_match.setText(f"No image name contains “{text}”." if not shown else "")
        self.no_match.setVisible(shown == 0 and bool(text))
        self.view.setVisible(shown > 0 or not text)
        if shown and not self.view.currentIndex().isValid():
            self.select_row(0)
        self._update_title()

    def current_path(self) -> Path | None:
        index = self.view.currentIndex()
        return index.data(PATH_ROLE) if index.isValid() else None

    def visible_paths(self) -> list[Path]:
        """Paths left after the filter, in list order."""
        return [self._proxy.index(r, 0).data(PATH_ROLE) for r in range(self._proxy.rowCount())]

    def select_row(self, row: int) -> None:
        """Make filtered row ``row`` current (clamped)."""
        count = self._proxy.rowCount()
        if count == 0:
            return
        index = self._proxy.index(max(0, min(row, count - 1)), 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.view.scrollTo(index)

    def select_path(self, path: Path) -> bool:
        source_row = self.model.row_of(path)
        if source_row < 0:
            return False
        index = self._proxy.mapFromSource(self.model.index(source_row))
        if not index.isValid():
            return False
        self.select_row(index.row())
        return True

    def step(self, delta: int) -> None:
        """Move the selection by ``delta`` rows (e.g. ±1)."""
        current = self.view.currentIndex()
        self.select_row((current.row() if current.isValid() else -1) + delta)

    def neighbours(self, radius: int = 1) -> list[Path]:
        """The paths next to the current one (for prefetching), nearest first."""
        current = self.view.currentIndex()
        if not current.isValid():
            return []
        rows = []
        for distance in range(1, radius + 1):
            rows += [current.row() + distance, current.row() - distance]
        count = self._proxy.rowCount()
        return [self._proxy.index(r, 0).data(PATH_ROLE) for r in rows if 0 <= r < count]

    def mark_unreadable(self, path: Path, message: str) -> None:
        self.model.mark_unreadable(path, message)

    def shutdown(self) -> None:
        self.loader.wait()

    def _on_current_changed(self, current, _previous) -> None:
        self.currentPathChanged.emit(current.data(PATH_ROLE) if current.isValid() else None)
