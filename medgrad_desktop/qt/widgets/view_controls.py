"""Overlay opacity, entropy window radius and colormap, as labelled controls."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QWidget,
)

from medgrad_desktop.engine.api import ENTROPY_RADII
from medgrad_desktop.explain.colormaps import COLORMAPS

DEFAULT_OPACITY_PERCENT = 55
DEFAULT_RADIUS = 5
RADIUS_RANGE = (min(ENTROPY_RADII), max(ENTROPY_RADII))


def _slider_row(slider: QSlider, value_label: QLabel) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(slider, 1)
    value_label.setMinimumWidth(value_label.fontMetrics().horizontalAdvance("100 %") + 6)
    value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    layout.addWidget(value_label)
    return row


class ViewControls(QGroupBox):
    """Emits ``opacityChanged`` (0–1), ``radiusChanged`` (model-input px), ``colormapChanged``."""

    opacityChanged = Signal(float)
    radiusChanged = Signal(int)
    colormapChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Display", parent)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(DEFAULT_OPACITY_PERCENT)
        self.opacity_slider.setToolTip("How strongly the maps cover the image")
        self.opacity_label = QLabel()
        self.radius_slider = QSlider(Qt.Orientation.Horizontal)
        self.radius_slider.setRange(*RADIUS_RANGE)
        self.radius_slider.setValue(DEFAULT_RADIUS)
        self.radius_slider.setToolTip(
            "Radius of the local-entropy window used by MedGrad-ECLIP, in model-input pixels"
        )
        self.radius_label = QLabel()
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(list(COLORMAPS))

        form = QFormLayout(self)
        form.addRow("Opacity", _slider_row(self.opacity_slider, self.opacity_label))
        form.addRow("Entropy radius", _slider_row(self.radius_slider, self.radius_label))
        form.addRow("Colormap", self.colormap_combo)

        self.opacity_slider.valueChanged.connect(self._on_opacity)
        self.radius_slider.valueChanged.connect(self._on_radius)
        self.colormap_combo.currentTextChanged.connect(self.colormapChanged)
        self._update_labels()

    def opacity(self) -> float:
        return self.opacity_slider.value() / 100.0

    def radius(self) -> int:
        return self.radius_slider.value()

    def colormap(self) -> str:
        return self.colormap_combo.currentText()

    def _update_labels(self) -> None:
        self.opacity_label.setText(f"{self.opacity_slider.value()} %")
        self.radius_label.setText(f"{self.radius_slider.value()} px")

    def _on_opacity(self, _value: int) -> None:
        self._update_labels()
        self.opacityChanged.emit(self.opacity())

    def _on_radius(self, value: int) -> None:
        self._update_labels()
        self.radiusChanged.emit(value)
