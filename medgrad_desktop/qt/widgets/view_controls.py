"""Overlay opacity, entropy window radius and colormap, bound to the view state."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
from medgrad_desktop.engine.view_state import ViewState
from medgrad_desktop.explain.colormaps import COLORMAPS
from medgrad_desktop.qt.state_binding import bind

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
    """Sliders and a colormap list that show and change ``state`` (opacity, radius, colormap)."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__("Display", parent)
        self.state = state
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setToolTip("How strongly the maps cover the image")
        self.opacity_label = QLabel()
        self.radius_slider = QSlider(Qt.Orientation.Horizontal)
        self.radius_slider.setRange(*RADIUS_RANGE)
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

        bind(
            state,
            "opacity",
            self.opacity_slider,
            self.opacity_slider.valueChanged,
            lambda value: self.opacity_slider.setValue(round(value * 100)),
            lambda percent: percent / 100.0,
        )
        bind(
            state,
            "radius",
            self.radius_slider,
            self.radius_slider.valueChanged,
            self.radius_slider.setValue,
        )
        bind(
            state,
            "colormap",
            self.colormap_combo,
            self.colormap_combo.currentTextChanged,
            self.colormap_combo.setCurrentText,
        )
        state.events.opacity.connect(self._update_labels)
        state.events.radius.connect(self._update_labels)
        self._update_labels()

    def opacity(self) -> float:
        return self.state.opacity

    def radius(self) -> int:
        return self.state.radius

    def colormap(self) -> str:
        return self.state.colormap

    def _update_labels(self, *_args) -> None:
        self.opacity_label.setText(f"{round(self.state.opacity * 100)} %")
        self.radius_label.setText(f"{self.state.radius} px")
