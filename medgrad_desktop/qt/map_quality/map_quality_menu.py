"""The "Evaluate" menu of the main window: "Map quality…" (not while a rating session runs,
since the dialog names the methods) and, in browse mode, "Outline ground-truth mask"."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from medgrad_desktop.qt.map_quality.mask_outline import MaskOutline, in_rating_mode

OUTLINE_TIP = "Draw the outline of the drawn mask of the structure the maps explain"

if TYPE_CHECKING:  # the dialog imports the evaluation code (torch): not at start-up
    from medgrad_desktop.qt.map_quality.map_quality_dialog import MapQualityDialog


def _dataset_root(folder: Path | None) -> Path | None:
    """The viewer's folder, or its parent when that holds the synthetic set's manifest."""
    if folder is None:
        return None
    folder = Path(folder)
    return folder.parent if (folder.parent / "manifest.csv").is_file() else folder


class MapQualityMenu(QObject):
    """Owns the menu, the dialog and the outline toggle of a main window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: MapQualityDialog | None = None
        self.menu = QMenu("&Evaluate", window)
        self.menu.setObjectName("mapQualityMenu")
        self.menu.aboutToShow.connect(self._refresh)
        self.quality_action = QAction("Map quality…", self.menu)
        self.quality_action.setStatusTip(
            "Measure how well each map finds structures drawn in ground-truth masks"
        )
        self.quality_action.triggered.connect(lambda _checked=False: self.show_dialog())
        self.outline = MaskOutline(window)
        self.outline_action = QAction("Outline ground-truth mask", self.menu)
        self.outline_action.setCheckable(True)
        self.outline_action.setStatusTip(OUTLINE_TIP)
        self.outline_action.setToolTip(OUTLINE_TIP)
        self.outline_action.toggled.connect(self.outline.set_enabled)
        self.outline.noteChanged.connect(self._show_note)
        self.menu.setToolTipsVisible(True)
        self.menu.addAction(self.quality_action)
        self.menu.addAction(self.outline_action)

    def _show_note(self, note: str) -> None:
        """What the outline shows (or why none) as the toggle's tooltip and in the status bar."""
        self.outline_action.setToolTip(note or OUTLINE_TIP)
        self.outline_action.setStatusTip(note or OUTLINE_TIP)
        if note:
            self.window.status_panel.show_message(note)

    def _refresh(self) -> None:
        rating = in_rating_mode(self.window)
        self.quality_action.setEnabled(not rating)
        self.outline_action.setEnabled(not rating)

    def show_dialog(self) -> MapQualityDialog | None:
        if in_rating_mode(self.window):
            return None
        if self.dialog is None:
            root = _dataset_root(self.window.browser.folder)
            from medgrad_desktop.qt.map_quality.map_quality_dialog import MapQualityDialog

            self.dialog = MapQualityDialog(self.window.engine, root, self.window)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def install_map_quality_menu(window) -> MapQualityMenu:
    """Add the Evaluate menu to ``window`` once; returns it."""
    existing = window.findChild(MapQualityMenu)
    if existing is not None:
        return existing
    menu = MapQualityMenu(window)
    window.add_mode_menu(menu.menu)
    return menu
