"""A virtualised grid of thumbnails in a given order, each with a caption and an optional
badge (the top predicted class); thumbnails are decoded lazily, only for painted tiles, and
kept in a bounded cache, so 5,000 images scroll without stalling."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate

from medgrad_desktop.qt.widgets.thumbnail_loader import THUMBNAIL_SIDE, ThumbnailLoader

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
BADGE_ROLE = Qt.ItemDataRole.UserRole + 2
RISK_ROLE = Qt.ItemDataRole.UserRole + 3
MAX_CACHED_THUMBNAILS = 800
TILE = QSize(THUMBNAIL_SIDE + 40, THUMBNAIL_SIDE + 40)


@dataclass(frozen=True)
class GridEntry:
    """One tile: the image's name relative to the folder, caption, badge and risk flag."""

    name: str
    caption: str = ""
    badge: str = ""
    high_risk: bool = False


class ImageGridModel(QAbstractListModel):
    """Rows are ``GridEntry`` tiles of one folder, in the order given."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._loader = ThumbnailLoader(self)
        self._loader.thumbnailReady.connect(self._on_thumbnail)
        self._loader.thumbnailFailed.connect(self._on_failed)
        self._folder = Path()
        self._entries: list[GridEntry] = []
        self._rows: dict[Path, int] = {}
        self._pixmaps: OrderedDict[Path, QPixmap] = OrderedDict()
        self._unreadable: set[Path] = set()

    def set_entries(self, folder: Path, entries: list[GridEntry]) -> None:
        self.beginResetModel()
        if Path(folder) != self._folder:
            self._loader.reset()
            self._pixmaps.clear()
            self._unreadable.clear()
        self._folder, self._entries = Path(folder), list(entries)
        self._rows = {self._folder / e.name: row for row, e in enumerate(self._entries)}
        self.endResetModel()

    def entries(self) -> list[GridEntry]:
        return list(self._entries)

    def path_at(self, row: int) -> Path:
        return self._folder / self._entries[row].name

    def shutdown(self) -> None:
        self._loader.wait(2000)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        path = self._folder / entry.name
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.caption or Path(entry.name).name
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._pixmaps.get(path)
            if pixmap is None:
                if path not in self._unreadable:
                    self._loader.request(path)  # only painted tiles are ever decoded
                return None
            self._pixmaps.move_to_end(path)
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.name + ("\n" + entry.caption if entry.caption else "")
        if role == PATH_ROLE:
            return path
        if role == BADGE_ROLE:
            return entry.badge
        if role == RISK_ROLE:
            return entry.high_risk
        return None

    def _on_thumbnail(self, path: Path, image: QImage) -> None:
        self._pixmaps[path] = QPixmap.fromImage(image)
        while len(self._pixmaps) > MAX_CACHED_THUMBNAILS:
            old, _ = self._pixmaps.popitem(last=False)
            self._loader.forget(old)
        self._changed(path)

    def _on_failed(self, path: Path, _message: str) -> None:
        self._unreadable.add(path)
        self._changed(path)

    def _changed(self, path: Path) -> None:
        row = self._rows.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class _TileDelegate(QStyledItemDelegate):
    """Thumbnail, a badge in its top-left corner, and up to two caption lines below."""

    def sizeHint(self, option, index) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        rect = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, option.palette.highlight())
        side = THUMBNAIL_SIDE
        image_rect = QRect(rect.x() + (rect.width() - side) // 2, rect.y() + 2, side, side)
        self._paint_thumbnail(painter, image_rect, index.data(Qt.ItemDataRole.DecorationRole))
        badge = index.data(BADGE_ROLE)
        if badge:
            risky = bool(index.data(RISK_ROLE))
            self._paint_badge(painter, rect, image_rect.y(), badge, risky)
        roles = option.palette.ColorRole
        painter.setPen(option.palette.color(roles.HighlightedText if selected else roles.Text))
        text_rect = QRect(rect.x(), image_rect.bottom() + 2, rect.width(), 34)
        metrics = painter.fontMetrics()
        lines = str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n")[:2]
        lines = [metrics.elidedText(t, Qt.TextElideMode.ElideMiddle, rect.width()) for t in lines]
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, "\n".join(lines))
        painter.restore()

    @staticmethod
    def _paint_thumbnail(painter: QPainter, image_rect: QRect, pixmap) -> None:
        if not isinstance(pixmap, QPixmap):
            painter.fillRect(image_rect, QColor(225, 225, 225))
            return
        size = pixmap.size().scaled(image_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(image_rect.center())
        painter.drawPixmap(target, pixmap)

    @staticmethod
    def _paint_badge(painter: QPainter, tile: QRect, top: int, badge: str, risky: bool) -> None:
        """The badge across the top of the thumbnail, as wide as its text (elided to the tile)."""
        painter.save()
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() - 1.5))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        text = metrics.elidedText(badge, Qt.TextElideMode.ElideMiddle, tile.width() - 8)
        width = metrics.horizontalAdvance(text) + 8
        badge_rect = QRect(tile.x() + (tile.width() - width) // 2, top, width, metrics.height() + 2)
        painter.fillRect(badge_rect, QColor(170, 20, 20, 225) if risky else QColor(30, 30, 30, 200))
        painter.setPen(QColor("white"))
        painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class ImageGrid(QListView):
    """The grid view; one click on a tile emits ``imageClicked(path)``."""

    imageClicked = Signal(object)  # Path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.grid_model = ImageGridModel(self)
        self.setModel(self.grid_model)
        self.setItemDelegate(_TileDelegate(self))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(300)
        self.setGridSize(TILE)
        self.setSpacing(0)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.clicked.connect(lambda index: self.imageClicked.emit(index.data(PATH_ROLE)))
        self.activated.connect(lambda index: self.imageClicked.emit(index.data(PATH_ROLE)))

    def set_entries(self, folder: Path, entries: list[GridEntry]) -> None:
        self.grid_model.set_entries(folder, entries)

    def selected_name(self) -> str | None:
        rows = self.selectionModel().selectedIndexes()
        return self.grid_model.entries()[rows[0].row()].name if rows else None

    def shutdown(self) -> None:
        self.grid_model.shutdown()
