"""The 2×2 comparison: original, Grad-CAM, Grad-ECLIP and MedGrad-ECLIP in linked views.

Zoom or pan one panel and all follow; the cursor shows a crosshair in every panel and each
panel's map value under it; Home, a double-click or "Reset zoom" shows the whole image again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.engine.api import MapsResult
from medgrad_desktop.explain.colormaps import COLORMAPS
from medgrad_desktop.explain.method_names import METHODS, method_title
from medgrad_desktop.explain.provenance import provenance_label, provenance_tooltip
from medgrad_desktop.qt.widgets.colour_bar import ColourBar
from medgrad_desktop.qt.widgets.map_panel import MapPanel

TITLE_SEPARATOR = " · "


class ComparisonArea(QWidget):
    """See the module docstring. ``copyRequested(panel)`` and ``exportRequested(panel)`` come
    from a panel's context menu (the window does the copying and saving)."""

    copyRequested = Signal(object)  # MapPanel
    exportRequested = Signal(object)  # MapPanel

    def __init__(self, parent: QWidget | None = None, methods=METHODS) -> None:
        super().__init__(parent)
        self.original = MapPanel("Original", with_overlay=False)
        self.panels: dict[str, MapPanel] = {m: MapPanel(method_title(m)) for m in methods}
        grid = QGridLayout()
        grid.setSpacing(6)
        self.grid = grid  # optional panels (qt/widgets/optional_panels.py) re-lay it out
        for position, panel in enumerate(self.all_panels()):
            grid.addWidget(panel, position // 2, position % 2)
            if panel is not self.original:
                panel.view_box.setXLink(self.original.view_box)
                panel.view_box.setYLink(self.original.view_box)
            panel.hovered.connect(self.show_cursor)
            panel.resetRequested.connect(self.fit)
            panel.menuRequested.connect(lambda point, p=panel: self._show_menu(p, point))
            panel.view_box.sigRangeChangedManually.connect(self._on_manual_range)
        self.colour_bar = ColourBar()
        self.zoom_label = QLabel("Zoom 100 %")
        self.zoom_label.setObjectName("zoomLevel")
        self.zoom_label.setToolTip("Home, a double-click or View → Reset zoom shows all")
        self.provenance = QLabel()
        self.provenance.setObjectName("mapProvenance")
        self.provenance.setStyleSheet("color: #555; font-size: 11px")
        self.provenance.setWordWrap(True)
        self.provenance.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.provenance.setFixedHeight(self.colour_bar.sizeHint().height())  # two short lines
        footer = QHBoxLayout()
        footer.addWidget(self.colour_bar, 3)
        footer.addWidget(self.provenance, 2)
        footer.addWidget(self.zoom_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid, 1)
        layout.addLayout(footer)
        self.image_path: Path | None = None
        self.rgb: np.ndarray | None = None
        self.opacity = 0.55
        self.colormap = COLORMAPS[0]
        self.overlays_visible = True
        self.titles_locked = False  # a rating session titles the panels (blinding)
        self.prompt_label = ""
        self._fitted = True  # the image fills the views until the user pans or zooms
        self.original.view_box.sigRangeChanged.connect(self._update_zoom_label)
        self.set_provenance("model", "square")

    def set_provenance(self, variant: str, geometry: str) -> None:
        """Say under the maps, and in every map panel's tooltip, how the maps were computed."""
        self.variant, self.geometry = variant, geometry
        self.provenance.setText(provenance_label(variant, geometry))
        tooltip = provenance_tooltip(variant, geometry)
        self.provenance.setToolTip(tooltip)
        for panel in self.panels.values():
            panel.setToolTip(tooltip)

    def all_panels(self) -> list[MapPanel]:
        return [self.original, *self.panels.values()]

    # -- content ----------------------------------------------------------------------------
    def set_image(self, path: Path | None, rgb: np.ndarray | None) -> None:
        self.image_path, self.rgb = path, rgb
        for panel in self.all_panels():
            panel.set_image(rgb)
        self._fitted = True
        self.fit()

    def set_maps(self, result: MapsResult) -> None:
        for method, panel in self.panels.items():
            if method in result.maps:
                panel.set_map(result.maps[method], result.positive.get(method, True))
                panel.set_busy(False)

    def clear_maps(self) -> None:
        for panel in self.panels.values():
            panel.clear_map()

    def set_prompt_label(self, label: str) -> None:
        """Title the map panels "Grad-ECLIP · melanoma" (not while a rating session blinds)."""
        self.prompt_label = label
        if self.titles_locked:
            return
        for method, panel in self.panels.items():
            title = method_title(method)
            panel.set_title(f"{title}{TITLE_SEPARATOR}{label}" if label else title)

    def set_titles_locked(self, locked: bool) -> None:
        self.titles_locked = locked
        if not locked:
            self.set_prompt_label(self.prompt_label)

    def set_busy(self, busy: bool) -> None:
        for panel in self.panels.values():
            panel.set_busy(busy)

    def is_busy(self) -> bool:
        return any(not panel.busy.isHidden() for panel in self.panels.values())

    def set_opacity(self, opacity: float) -> None:
        self.opacity = opacity
        for panel in self.panels.values():
            panel.set_opacity(opacity)

    def set_overlays_visible(self, visible: bool) -> None:
        self.overlays_visible = visible
        for panel in self.panels.values():
            panel.set_overlay_visible(visible)

    def set_colormap(self, name: str = COLORMAPS[0]) -> None:
        self.colormap = name
        for panel in self.panels.values():
            panel.set_colormap(name)
        self.colour_bar.set_colormap(name)

    # -- zoom and cursor --------------------------------------------------------------------
    def fit(self) -> None:
        """Show the whole image (all views follow the original's range)."""
        self._fitted = True
        if self.original.image_item.image is not None:
            self.original.view_box.autoRange(padding=0.01)

    def zoom_percent(self) -> int:
        """Image pixels shown per screen pixel, as a percentage (100 % = one to one)."""
        shape = self.original.image_shape()
        width = self.original.view_box.width()
        if shape is None or width <= 0:
            return 100
        (x0, x1), _ = self.original.view_box.viewRange()
        return max(1, round(100 * width / max(x1 - x0, 1e-6)))

    def zoom_by(self, factor: float) -> None:
        """Zoom all views about their centre (factor > 1 zooms in)."""
        self._fitted = False
        self.original.view_box.scaleBy((1 / factor, 1 / factor))

    def _update_zoom_label(self, *_args) -> None:
        self.zoom_label.setText(f"Zoom {self.zoom_percent()} %")

    def show_cursor(self, x: float | None, y: float | None) -> None:
        """The same image pixel marked in every panel, with each panel's value."""
        for panel in self.all_panels():
            panel.show_cursor(x, y)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            QTimer.singleShot(0, self.fit)  # after the panels have their new sizes

    def _on_manual_range(self, *_args) -> None:
        self._fitted = False

    def _show_menu(self, panel: MapPanel, point) -> None:
        menu = self.panel_menu(panel)
        menu.exec(point)

    def panel_menu(self, panel: MapPanel) -> QMenu:
        """Reset zoom, copy image, export panel (also used by tests)."""
        menu = QMenu(self)
        for text, slot in (
            ("Reset zoom", self.fit),
            ("Copy image", lambda: self.copyRequested.emit(panel)),
            ("Export this panel…", lambda: self.exportRequested.emit(panel)),
        ):
            action = QAction(text, menu)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            menu.addAction(action)
        return menu
