"""The viewer's main window: composes the browser, comparison, prompt panel and controls
around one ``ViewState``; modes (rating, training, …) add menus through ``add_mode_menu``."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.engine.view_state import ViewState
from medgrad_desktop.explain.listing import folder_error_message
from medgrad_desktop.qt import window_geometry
from medgrad_desktop.qt.actions import WindowActions, add_mode_menu, build_actions
from medgrad_desktop.qt.comparison_export import ComparisonExporter
from medgrad_desktop.qt.engine_bridge import EngineBridge
from medgrad_desktop.qt.explain_controller import ExplainController
from medgrad_desktop.qt.help_dialogs import about_html, shortcuts_dialog, user_guide_dialog
from medgrad_desktop.qt.widgets.comparison_area import ComparisonArea
from medgrad_desktop.qt.widgets.folder_browser import FolderBrowser
from medgrad_desktop.qt.widgets.folder_field import last_folder, remember_folder
from medgrad_desktop.qt.widgets.message_banner import MessageBanner
from medgrad_desktop.qt.widgets.prompt_editor import PromptSetEditor
from medgrad_desktop.qt.widgets.prompt_panel import PromptPanel
from medgrad_desktop.qt.widgets.recent_folders import RecentFolders
from medgrad_desktop.qt.widgets.status_panel import StatusPanel
from medgrad_desktop.qt.widgets.view_controls import ViewControls
from medgrad_desktop.qt.widgets.warning_box import show_warning

log = logging.getLogger(__name__)

WINDOW_TITLE = "MedGrad Desktop"
SIDE_PANEL_WIDTH = 300


class MainWindow(QMainWindow):
    """The viewer. ``engine`` is an ``ExplainEngine`` whose listener is ``bridge``."""

    def __init__(self, engine, bridge: EngineBridge, device: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)
        self.setAcceptDrops(True)
        self.engine, self.bridge, self.device = engine, bridge, device
        self.state = ViewState()
        self.browser = FolderBrowser()
        self.comparison = ComparisonArea()
        self.banner = MessageBanner()
        self.prompt_panel = PromptPanel(self.state)
        self.controls = ViewControls(self.state)
        self.status_panel = StatusPanel(self.statusBar())
        self._build_layout()
        self.actions: WindowActions = build_actions(self)
        self.recent = RecentFolders(self.actions.recent_menu, self)
        self.recent.chosen.connect(self.open_folder)
        self.controller = ExplainController(
            engine,
            bridge,
            self.state,
            self.browser,
            self.comparison,
            self.prompt_panel,
            self.status_panel,
            self.banner,
            self,
        )
        self.exporter = ComparisonExporter(self)
        self._bind_state()
        self.controller.modelFailed.connect(self._show_model_error)
        self.prompt_panel.editRequested.connect(self.edit_prompt_set)
        self.comparison.copyRequested.connect(self.exporter.copy_panel)
        self.comparison.exportRequested.connect(self.exporter.choose_panel_path)
        self._closed = False
        self.browser.view.setFocus()

    def _bind_state(self) -> None:
        """The state drives the comparison, the overlay and follow actions and the titles."""
        state, comparison, actions = self.state, self.comparison, self.actions
        events = state.events
        events.opacity.connect(comparison.set_opacity)
        events.colormap.connect(comparison.set_colormap)
        events.overlays_visible.connect(comparison.set_overlays_visible)
        events.overlays_visible.connect(lambda shown: actions.toggle_overlays.setChecked(shown))
        events.follow_top_class.connect(lambda follow: actions.follow_top_class.setChecked(follow))
        events.rating_mode.connect(comparison.set_titles_locked)
        events.rating_mode.connect(lambda rating: actions.follow_top_class.setEnabled(not rating))
        self.browser.currentPathChanged.connect(lambda path: setattr(state, "image", path))
        comparison.set_opacity(state.opacity)
        comparison.set_colormap(state.colormap)
        actions.follow_top_class.setChecked(state.follow_top_class)

    def _build_layout(self) -> None:
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addWidget(self.banner)
        centre_layout.addWidget(self.comparison, 1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.prompt_panel, 1)
        side_layout.addWidget(self.controls)
        side.setMinimumWidth(260)
        self.browser.setMinimumWidth(180)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("mainSplitter")
        for widget in (self.browser, centre, side):
            splitter.addWidget(widget)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)
        splitter.setSizes([220, 700, SIDE_PANEL_WIDTH])
        self.splitter = splitter
        self.setCentralWidget(splitter)

    # -- hooks for other modes --------------------------------------------------------------
    def add_mode_menu(self, menu) -> None:
        """Add a mode's menu (e.g. "Rating session", "Training") to the menu bar and toolbar."""
        add_mode_menu(self, self.actions, menu)

    def show_in_centre(self, widget: QWidget | None) -> None:
        """Show ``widget`` in place of the comparison area (rating mode); None restores it."""
        layout = self.comparison.parentWidget().layout()
        for index in reversed(range(layout.count())):
            other = layout.itemAt(index).widget()
            if other is not None and other.property("centreOverride"):
                layout.removeWidget(other)
                other.hide()
        if widget is not None:
            widget.setProperty("centreOverride", True)
            layout.insertWidget(layout.indexOf(self.comparison), widget, 1)
            widget.show()
        self.comparison.setVisible(widget is None)

    # -- opening things ---------------------------------------------------------------------
    def start(self, folder: Path | None, model: str | Path = "demo") -> None:
        """Load the prompt sets and the model, and open ``folder``."""
        self.prompt_panel.reload_sets()
        self.controller.load_model(model, self.device)
        if folder is not None:
            self.open_folder(folder)

    def open_folder(self, folder: Path) -> bool:
        folder = Path(folder)
        try:
            count = self.browser.set_folder(folder)
        except OSError as error:
            log.warning("Cannot list %s: %r", folder, error)
            self.controller.show_problem(folder_error_message(folder, error))
            return False
        self.recent.add(folder)
        self.setWindowTitle(f"{folder.name} — {WINDOW_TITLE}")
        if self.browser.skipped_summary:
            self.banner.show_message(self.browser.skipped_summary)
        if count == 0:
            self.banner.show_message(f"The folder {folder.name} contains no images.")
        return True

    def open_model(self, source: str | Path) -> None:
        self.controller.load_model(source, self.device)

    def last_folder(self) -> str:
        """Where file dialogs start: the last folder used, else the home folder."""
        return last_folder()

    def remember_folder(self, path: Path) -> None:
        remember_folder(path)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open image folder", self.last_folder())
        if folder:
            self.remember_folder(Path(folder))
            self.open_folder(Path(folder))

    def choose_model(self) -> None:
        from medgrad_desktop.explain.loading import CHECKPOINT_SUFFIXES, model_source_for

        suffixes = " ".join(f"*{s}" for s in CHECKPOINT_SUFFIXES)
        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "Open a CLIP model (a file of a Hugging Face or open_clip folder, or a .pth/.pt file)",
            self.last_folder(),
            filter=f"CLIP model (config.json open_clip_config.json {suffixes});;All files (*)",
        )
        if not chosen:
            return
        path = Path(chosen)
        self.remember_folder(path)
        self.open_model(model_source_for(path))

    def edit_prompt_set(self) -> None:
        prompt_set = self.prompt_panel.prompt_set
        if prompt_set is None:
            return
        editor = PromptSetEditor(prompt_set, self)
        if editor.exec() and editor.saved_path is not None:
            self.prompt_panel.reload_sets(select=editor.saved_path)
            self.status_panel.show_message(f"Prompt set saved as {editor.saved_path.name}.")

    # -- view -------------------------------------------------------------------------------
    def step_image(self, delta: int) -> None:
        self.browser.step(delta)

    def toggle_overlays(self) -> None:
        self.state.overlays_visible = self.actions.toggle_overlays.isChecked()

    def choose_export_path(self) -> None:
        self.exporter.choose_comparison_path()

    def export_png(self, path: Path):
        """Save the comparison at the image's resolution with its caption (in the background;
        returns the worker, or None when there is nothing to export)."""
        return self.exporter.export_comparison(Path(path))

    def show_shortcuts(self) -> None:
        shortcuts_dialog(self, self.actions_in_menus()).exec()

    def show_user_guide(self) -> None:
        user_guide_dialog(self).exec()

    def actions_in_menus(self) -> list:
        """Every action of the menu bar's menus, in order (for the shortcuts list)."""
        found = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            if menu is not None:
                found += [a for a in menu.actions() if not a.isSeparator() and a.menu() is None]
        return found + [a for a in QMainWindow.actions(self) if a not in found]

    def show_about(self) -> None:
        QMessageBox.about(self, "About MedGrad Desktop", about_html())

    def _show_model_error(self, message: str) -> None:
        show_warning(self, "Model not loaded", message, "modelErrorBox")

    # -- window state, drag and drop, closing ----------------------------------------------
    def restore_window_state(self) -> None:
        settings = QSettings()
        geometry, state = settings.value("window/geometry"), settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        window_geometry.clamp_to_screen(self)
        if state is not None:
            self.restoreState(state)
        splitter = settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            path = Path(url.toLocalFile())
            if path.is_dir() and self.open_folder(path):
                event.acceptProposedAction()
                return
            if path.is_file() and self.open_folder(path.parent):
                self.browser.select_path(path)
                event.acceptProposedAction()
                return

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            settings = QSettings()
            settings.setValue("window/geometry", self.saveGeometry())
            settings.setValue("window/state", self.saveState())
            settings.setValue("window/splitter", self.splitter.saveState())
            self.engine.shutdown()
            self.browser.shutdown()
            hooks = getattr(self, "exception_hooks", None)
            if hooks is not None:
                hooks.uninstall()
        super().closeEvent(event)
