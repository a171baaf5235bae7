"""The Browse menu of the main window: "Browse by meaning…" opens the browse window on the
viewer's folder, prompt set and model; a click on any image there shows it in the viewer.

``install_browse_menu(window)`` adds it through the window's ``add_mode_menu`` hook."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from medgrad_desktop.qt.browse.browse_window import BrowseWindow


class BrowseMenu(QObject):
    """Owns the menu and the (one) browse window of a main window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.browse_window: BrowseWindow | None = None
        self._model_id: str | None = None
        self.menu = QMenu("&Browse", window)
        self.menu.setObjectName("browseMenu")
        self.open_action = QAction("Browse by meaning…", self.menu)
        self.open_action.setShortcut(QKeySequence("Ctrl+B"))
        self.open_action.setStatusTip(
            "Search the folder with words, sort by the model's predictions, see its mistakes"
        )
        self.open_action.triggered.connect(lambda _checked=False: self.show_browser())
        self.menu.addAction(self.open_action)
        window.addAction(self.open_action)
        window.bridge.sig_model_loaded.connect(self._on_model_loaded)
        window.prompt_panel.promptSetChanged.connect(self._on_prompt_set)
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        """Stop the indexing and close the browse window when the main window closes (before
        its engine shuts down)."""
        if event.type() == QEvent.Type.Close and self.browse_window is not None:
            self.browse_window.shutdown()
            self.browse_window.close()
        return False

    def show_browser(self) -> BrowseWindow | None:
        """Open (or raise) the browse window on the viewer's current folder."""
        folder = self.window.browser.folder
        if folder is None:
            self.window.controller.show_problem("Open a folder of images first.")
            return None
        if self.browse_window is None:
            self.browse_window = BrowseWindow(self.window.engine, self.window)
            self.browse_window.openRequested.connect(self.open_in_viewer)
        if self.browse_window.folder != Path(folder) or self.browse_window.embeddings is None:
            self.browse_window.open_folder(Path(folder), self.window.prompt_panel.prompt_set)
        self.browse_window.show()
        self.browse_window.raise_()
        self.browse_window.activateWindow()
        return self.browse_window

    def open_in_viewer(self, path: Path) -> None:
        """Show ``path`` in the comparison view (opening its folder in the viewer if needed)."""
        path = Path(path)
        if self.window.browser.folder != path.parent and not self.window.open_folder(path.parent):
            return
        self.window.browser.select_path(path)

    def _on_model_loaded(self, info) -> None:
        changed = self._model_id is not None and info.model_id != self._model_id
        self._model_id = info.model_id
        browse = self.browse_window
        if browse is None or not browse.names:
            return
        if changed or (browse.embeddings is None and not browse.job.running):
            browse.reindex()  # another model, or the first one after indexing found none

    def _on_prompt_set(self, prompt_set) -> None:
        if self.browse_window is not None and prompt_set is not None:
            self.browse_window.set_prompt_set(prompt_set)


def install_browse_menu(window) -> BrowseMenu:
    """Add the Browse menu to ``window`` (a ``MainWindow``)."""
    browse = BrowseMenu(window)
    window.add_mode_menu(browse.menu)
    window.browse_menu = browse
    return browse
