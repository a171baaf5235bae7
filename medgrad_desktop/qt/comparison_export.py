"""Export PNG (the comparison, or one panel) at the image's resolution with a caption, and
"Copy image"; the picture is composed off the GUI thread."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog

from medgrad_desktop.engine.comparison_export import (
    ExportSettings,
    compose_comparison,
    save_comparison,
)
from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.geometry import GEOMETRY_TITLES
from medgrad_desktop.explain.images import load_image
from medgrad_desktop.explain.method_names import method_title
from medgrad_desktop.explain.provenance import VARIANT_TITLES
from medgrad_desktop.qt.background import run_in_background
from medgrad_desktop.qt.widgets.map_panel import MapPanel

log = logging.getLogger(__name__)


class ComparisonExporter:
    """Exports what ``window`` shows; tells the user in the status bar or the banner."""

    def __init__(self, window) -> None:
        self.window = window
        self.last_written: Path | None = None

    def settings(self) -> ExportSettings:
        w, state = self.window, self.window.state
        info = w.controller.model_info
        return ExportSettings(
            file_name=state.image.name if state.image is not None else "",
            prompt=w.comparison.prompt_label,
            model=f"{info.name} ({info.model_id[:8]})" if info is not None else "none",
            variant=VARIANT_TITLES[state.variant],
            geometry=GEOMETRY_TITLES[state.geometry],
            radius=state.radius,
            opacity=state.opacity,
            colormap=state.colormap,
            when=datetime.now().astimezone(),
        )

    def _ask_path(self, suffix: str) -> Path | None:
        image = self.window.state.image
        name = (image.stem if image is not None else "comparison") + suffix
        start = str(Path(self.window.last_folder()) / name)
        chosen, _ = QFileDialog.getSaveFileName(self.window, "Export PNG", start, "PNG (*.png)")
        if not chosen:
            return None
        path = Path(chosen).with_suffix(".png")
        self.window.remember_folder(path.parent)
        return path

    def choose_comparison_path(self) -> None:
        path = self._ask_path("_comparison.png")
        if path is not None:
            self.export_comparison(path)

    def choose_panel_path(self, panel: MapPanel) -> None:
        method = self._method_of(panel)
        path = self._ask_path(f"_{method or 'original'}.png")
        if path is not None:
            self.export_comparison(path, only=method)

    def _method_of(self, panel: MapPanel) -> str | None:
        return next((m for m, p in self.window.comparison.panels.items() if p is panel), None)

    def export_comparison(self, path: Path, only: str | None = None):
        """Compose and write the PNG in the background; ``only`` one method's panel."""
        w = self.window
        shown = w.controller.shown
        image = w.state.image
        if image is None or shown is None:
            w.controller.show_problem("There are no maps on screen to export yet.")
            return None
        maps = {m: a for m, a in shown.maps.items() if only is None or m == only}
        if w.state.rating_mode:  # blinded: the panels' own titles, never the method names
            titles = {m: w.comparison.panels[m].title.text() for m in maps}
        else:
            titles = {m: method_title(m) for m in maps}
        settings = self.settings()

        def work() -> Path:
            picture = compose_comparison(load_image(image), maps, titles, settings)
            return save_comparison(path, picture)

        return run_in_background(work, self._written, lambda error: self._failed(path, error))

    def _written(self, path: Path) -> None:
        self.last_written = path
        self.window.status_panel.show_message(f"Saved {path.name}.")

    def _failed(self, path: Path, error: BaseException) -> None:
        message = (
            error.message
            if isinstance(error, MedGradError)
            else f"The picture could not be saved to {path}."
        )
        self.window.controller.show_problem(message)

    def copy_panel(self, panel: MapPanel) -> None:
        """Put what the panel shows on the clipboard."""
        QApplication.clipboard().setPixmap(panel.graphics.grab())
        self.window.status_panel.show_message("Picture copied.")
