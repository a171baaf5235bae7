"""The viewer's main window: composes the browser, comparison, prompt panel and controls."""

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

from medgrad_desktop import RESEARCH_NOTICE, __version__
from medgrad_desktop.explain.listing import folder_error_message
from medgrad_desktop.explain.loading import CHECKPOINT_SUFFIXES
from medgrad_desktop.qt.actions import WindowActions, add_mode_menu, build_actions
from medgrad_desktop.qt.engine_bridge import EngineBridge
from medgrad_desktop.qt.explain_controller import ExplainController
from medgrad_desktop.qt.widgets.comparison_area import ComparisonArea
from medgrad_desktop.qt.widgets.folder_browser import FolderBrowser
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
        self.browser = FolderBrowser()
        self.comparison = ComparisonArea()
        self.banner = MessageBanner()
        self.prompt_panel = PromptPanel()
        self.controls = ViewControls()
        self.status_panel = StatusPanel(self.statusBar())
        self._build_layout()
        self.actions: WindowActions = build_actions(self)
        self.recent = RecentFolders(self.actions.recent_menu, self)
        self.recent.chosen.connect(self.open_folder)
        self.controller = ExplainController(
            engine,
            bridge,
            self.browser,
            self.comparison,
            self.prompt_panel,
            self.controls,
            self.status_panel,
            self.banner,
            self,
        )
        self.controller.modelFailed.connect(self._show_model_error)
        self.prompt_panel.editRequested.connect(self.edit_prompt_set)
        self._closed = False

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

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open image folder")
        if folder:
            self.open_folder(Path(folder))

    def choose_model(self) -> None:
        suffixes = " ".join(f"*{s}" for s in CHECKPOINT_SUFFIXES)
        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "Open a CLIP model (a file of a Hugging Face folder, or a .pth/.pt file)",
            filter=f"CLIP model (config.json {suffixes});;All files (*)",
        )
        if not chosen:
            return
        path = Path(chosen)
        is_checkpoint = path.suffix.lower() in (".pth", ".pt", ".ckpt")
        self.open_model(
            path if is_checkpoint or not (path.parent / "config.json").is_file() else path.parent
        )

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
        self.comparison.set_overlays_visible(self.actions.toggle_overlays.isChecked())

    def choose_export_path(self) -> None:
        name = (self.browser.current_path() or Path("comparison")).stem + "_comparison.png"
        chosen, _ = QFileDialog.getSaveFileName(self, "Export comparison", name, "PNG (*.png)")
        if chosen:
            self.export_png(Path(chosen))

    def export_png(self, path: Path) -> bool:
        """Save the comparison area as a PNG; tells the user whether it worked."""
        path = Path(path).with_suffix(".png")
        written = self.comparison.export_png(path)
        if written:
            self.status_panel.show_message(f"Saved {path.name}.")
        else:
            log.error("Writing %s failed", path)
            self.controller.show_problem(f"The picture could not be saved to {path}.")
        return written

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About MedGrad Desktop",
            f"<b>MedGrad Desktop {__version__}</b><p>Compare Grad-CAM, Grad-ECLIP "
            f"and MedGrad-ECLIP maps of CLIP models on skin-lesion images.</p>"
            f"<p><b>{RESEARCH_NOTICE}</b></p>",
        )

    def _show_model_error(self, message: str) -> None:
        show_warning(self, "Model not loaded", message, "modelErrorBox")

    # -- window state, drag and drop, closing ----------------------------------------------
    def restore_window_state(self) -> None:
        settings = QSettings()
        geometry, state = settings.value("window/geometry"), settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
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
        super().closeEvent(event)
