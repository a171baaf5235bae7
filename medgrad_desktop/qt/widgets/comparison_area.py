"""The 2×2 comparison: original, Grad-CAM, Grad-ECLIP and MedGrad-ECLIP in linked views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.engine.api import MapsResult
from medgrad_desktop.explain.colormaps import COLORMAPS
from medgrad_desktop.explain.methods import default_methods, method_title
from medgrad_desktop.explain.provenance import provenance_caption, provenance_tooltip
from medgrad_desktop.qt.widgets.colour_bar import ColourBar
from medgrad_desktop.qt.widgets.map_panel import MapPanel


class ComparisonArea(QWidget):
    """Pan or zoom one panel and all follow (linked x/y ranges); a colour bar sits below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original = MapPanel("Original", with_overlay=False)
        self.panels: dict[str, MapPanel] = {m: MapPanel(method_title(m)) for m in default_methods()}
        grid = QGridLayout()
        grid.setSpacing(6)
        for position, panel in enumerate([self.original, *self.panels.values()]):
            grid.addWidget(panel, position // 2, position % 2)
            if panel is not self.original:
                panel.view_box.setXLink(self.original.view_box)
                panel.view_box.setYLink(self.original.view_box)
        self.colour_bar = ColourBar()
        self.provenance = QLabel()
        self.provenance.setObjectName("mapProvenance")
        self.provenance.setStyleSheet("color: #555; font-size: 11px")
        self.provenance.setWordWrap(True)
        self.provenance.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        footer = QHBoxLayout()
        footer.addWidget(self.colour_bar, 3)
        footer.addWidget(self.provenance, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid, 1)
        layout.addLayout(footer)
        self.variant, self.geometry = "model", "square"
        self.set_provenance(self.variant, self.geometry)
        self.image_path: Path | None = None
        self.opacity = 0.55
        self.overlays_visible = True
        self._fitted = True  # the image fills the views until the user pans or zooms
        for panel in self.all_panels():
            panel.view_box.sigRangeChangedManually.connect(self._on_manual_range)

    def set_provenance(self, variant: str, geometry: str) -> None:
        """Say under the maps, and in every map panel's tooltip, how the maps were computed."""
        self.variant, self.geometry = variant, geometry
        self.provenance.setText(provenance_caption(variant, geometry))
        tooltip = provenance_tooltip(variant, geometry)
        for panel in self.panels.values():
            panel.setToolTip(tooltip)

    def all_panels(self) -> list[MapPanel]:
        return [self.original, *self.panels.values()]

    def set_image(self, path: Path | None, rgb: np.ndarray | None) -> None:
        self.image_path = path
        for panel in self.all_panels():
            panel.set_image(rgb)
        self._fitted = True
        self.fit()

    def fit(self) -> None:
        """Show the whole image (all views follow the original's range)."""
        if self.original.image_item.image is not None:
            self.original.view_box.autoRange(padding=0.01)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            QTimer.singleShot(0, self.fit)  # after the panels have their new sizes

    def _on_manual_range(self, *_args) -> None:
        self._fitted = False

    def set_maps(self, result: MapsResult) -> None:
        for method, panel in self.panels.items():
            if method in result.maps:
                panel.set_map(result.maps[method], result.positive.get(method, True))
                panel.set_busy(False)

    def clear_maps(self) -> None:
        for panel in self.panels.values():
            panel.clear_map()

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
        for panel in self.panels.values():
            panel.set_colormap(name)
        self.colour_bar.set_colormap(name)

    def export_png(self, path: Path) -> bool:
        """Save what the comparison area shows as a PNG; returns whether it was written."""
        return self.grab().save(str(path), "PNG")
