"""Puts the main window into rating mode and back: what is hidden, locked, retitled, restored.

Blinding rules applied here: the window's comparison (with method titles) is replaced by a
``BlindedComparison`` of equal cells titled A, B, C; the controls that would reveal a method
lose their method-naming tooltips; the entropy radius is locked (changing it would change
one panel only and so reveal it); export is off (its pictures and names would carry method
titles); the model's prediction is hidden unless the session allows it; and nothing lets
the reader leave the session's case (browser, folder and model actions, prompt choice)
until rating mode ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar, QWidget

from medgrad_desktop.explain.method_names import check_methods
from medgrad_desktop.qt.rating.blinded_comparison import BlindedComparison
from medgrad_desktop.qt.widgets.map_panel import MapPanel

RADIUS_TOOLTIP_IN_RATING = "Radius of the local-entropy window (fixed while rating)"
OPACITY_TOOLTIP_FIXED = "Fixed for this rating session"
PREDICTION_HIDDEN_TEXT = "The model's prediction is hidden during this rating session."


@dataclass
class _Saved:
    title: str = ""
    enabled: dict[Any, bool] = field(default_factory=dict)
    tooltips: dict[Any, str] = field(default_factory=dict)
    browser_visible: bool = True
    accepts_drops: bool = True
    chart_visible: bool = True
    prompt_status: str = ""


class RatingWindowMode:
    """Applies and undoes rating mode on a ``MainWindow``; owns the rows' and bar's placement."""

    def __init__(self, window) -> None:
        self.window = window
        self.comparison: BlindedComparison | None = None
        self.slots: list[MapPanel] = []
        self.toolbar: QToolBar | None = None
        self._saved = _Saved()

    def _lockable(self) -> list[QWidget]:
        w = self.window
        return [
            w.prompt_panel.set_combo,
            w.prompt_panel.edit_button,
            w.prompt_panel.chart,
            w.controls.radius_slider,
            w.controls.opacity_slider,
            w.controls.colormap_combo,
        ]

    def _actions(self) -> list:
        a = self.window.actions
        return [
            a.open_folder,
            a.open_model,
            a.edit_prompt_set,
            a.next_image,
            a.previous_image,
            a.export_png,
            a.recent_menu.menuAction(),
            *self._other_modes(),
        ]

    def _other_modes(self) -> list:
        """Other modes' menus (training, search, map quality…): they could show method names
        or leave the session's case, so they wait until rating mode ends."""
        keep = {"&File", "&View", "&Help", "&Prompts"}
        return [
            action
            for action in self.window.menuBar().actions()
            if action.menu() is not None
            and action.text() not in keep
            and action.menu().objectName() != "ratingMenu"
        ]

    def enter(
        self,
        bar: QWidget,
        footers: list[QWidget],
        title: str,
        show_prediction: bool = False,
        methods: Sequence[str] = (),
    ) -> BlindedComparison:
        """Hide the browser, lock navigation, put ``bar`` above and show the blinded
        comparison with ``footers`` under its map panels (returned). The engine computes the
        session's ``methods`` (the viewer's own come back when rating mode ends)."""
        w, saved = self.window, self._saved
        if methods:
            w.engine.methods = check_methods(methods)
        saved.title = w.windowTitle()
        saved.browser_visible = w.browser.isVisible()
        saved.accepts_drops = w.acceptDrops()
        saved.chart_visible = not w.prompt_panel.chart.isHidden()
        saved.prompt_status = w.prompt_panel.status.text()
        for item in [*self._lockable(), *self._actions()]:
            saved.enabled[item] = item.isEnabled()
        for item in (
            w.controls.radius_slider,
            w.controls.opacity_slider,
            w.controls.colormap_combo,
        ):
            saved.tooltips[item] = item.toolTip()
        w.setWindowTitle(title)
        w.browser.hide()
        w.browser.blockSignals(True)  # a dropped or recent folder must not replace the case
        w.setAcceptDrops(False)
        for item in [*self._actions(), *self._lockable()[:4]]:
            item.setEnabled(False)
        w.controls.radius_slider.setToolTip(RADIUS_TOOLTIP_IN_RATING)
        self.toolbar = QToolBar("Rating")
        self.toolbar.setObjectName("ratingToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(bar)
        w.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        w.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        if not show_prediction:
            w.prompt_panel.chart.hide()
            w.prompt_panel.status.setText(PREDICTION_HIDDEN_TEXT)
        self.comparison = BlindedComparison(footers)
        self.slots = list(self.comparison.panels)
        state, events = w.state, w.state.events
        self.comparison.set_opacity(state.opacity)
        self.comparison.set_colormap(state.colormap)
        self.comparison.set_overlays_visible(state.overlays_visible)
        events.opacity.connect(self.comparison.set_opacity)
        events.colormap.connect(self.comparison.set_colormap)
        events.overlays_visible.connect(self.comparison.set_overlays_visible)
        w.show_in_centre(self.comparison)
        return self.comparison

    def lock_display(self, locked: bool) -> None:
        """Fixed display policy: opacity and colormap cannot change either."""
        controls = self.window.controls
        for item in (controls.opacity_slider, controls.colormap_combo):
            item.setEnabled(not locked)
            item.setToolTip(OPACITY_TOOLTIP_FIXED if locked else self._saved.tooltips[item])

    def leave(self) -> None:
        """Undo everything ``enter`` did."""
        w, saved = self.window, self._saved
        if self.comparison is not None:
            events = w.state.events
            events.opacity.disconnect(self.comparison.set_opacity)
            events.colormap.disconnect(self.comparison.set_colormap)
            events.overlays_visible.disconnect(self.comparison.set_overlays_visible)
            w.show_in_centre(None)
            self.comparison.deleteLater()
            self.comparison, self.slots = None, []
        w.prompt_panel.chart.setVisible(saved.chart_visible)
        w.prompt_panel.status.setText(saved.prompt_status)
        if self.toolbar is not None:
            w.removeToolBarBreak(self.toolbar)
            w.removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        for item, enabled in saved.enabled.items():
            item.setEnabled(enabled)
        for item, tip in saved.tooltips.items():
            item.setToolTip(tip)
        w.browser.blockSignals(False)
        w.browser.setVisible(saved.browser_visible)
        w.setAcceptDrops(saved.accepts_drops)
        w.setWindowTitle(saved.title)
